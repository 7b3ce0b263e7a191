import Fastify from 'fastify';
import { kitVersion } from '@secure-ci/service-kit';
const app = Fastify();
app.get('/', async () => ({ kitVersion }));
app.listen({ port: 3001, host: '0.0.0.0' });
