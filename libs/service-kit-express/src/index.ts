// @secure-ci/service-kit-express: the kit's express adapter. Only express services import it, so a fastify
// service's graph (and its image selection) never includes express.
export { createExpressService, type ExpressRoutes } from './express';
