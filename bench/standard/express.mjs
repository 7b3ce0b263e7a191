// The baseline for bench/http.mjs: express set up the standard careful way (pino-http request logging + helmet,
// nothing else), serving the same endpoint as the kit's orders.
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';

const app = express();
app.use(pinoHttp());
app.use(helmet());
app.get('/health/live', (_req, res) => {
  res.type('application/health+json').json({ status: 'pass' });
});
app.listen(Number(process.env.PORT), '127.0.0.1');
