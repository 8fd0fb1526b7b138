export { registerIdentityRoutes } from './identity.routes.ts';
export {
  authenticate,
  insertUser,
  login,
  lockout,
  type CreateUserInput,
  type GrantInput,
} from './identity.service.ts';
export { hashPassword } from './password.ts';
