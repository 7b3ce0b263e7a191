// @secure-ci/service-kit-fastify: the kit's fastify adapter. Only fastify services import it, so an express
// service's graph (and its image selection) never includes fastify.
export { createFastifyService, type FastifyRoutes } from './fastify';
