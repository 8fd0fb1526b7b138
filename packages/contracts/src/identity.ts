import { z } from 'zod';
import { PageQuerySchema, RegionCodeSchema } from './common.ts';

export const roleValues = [
  'admin',
  'centre_operator',
  'hotline_operator',
  'department_handler',
  'leader',
  'grid_leader',
  'grid_worker',
  'professional_worker',
  'auxiliary',
  'resident',
  'auditor',
] as const;
export const RoleSchema = z.enum(roleValues);

export const LoginRequestSchema = z.object({
  username: z.string().min(1, '请输入用户名 (required)').max(64),
  password: z.string().min(1, '请输入密码 (required)').max(256),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const LoginResponseSchema = z.object({ token: z.string(), expiresAt: z.string() });

export const ChangePasswordRequestSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(8, '至少 8 个字符 (at least 8 characters)').max(256),
});

export const GrantSchema = z.object({
  role: RoleSchema,
  regionCode: z.string().nullable(),
  regionName: z.string().nullable(),
  regionLevel: z.string().nullable(),
  departmentId: z.number().int().nullable(),
  specialty: z.string().nullable(),
});

export const UserSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  status: z.string(),
  grants: z.array(GrantSchema),
});

export const MeResponseSchema = z.object({
  user: z.object({
    id: z.number().int(),
    username: z.string(),
    displayName: z.string(),
    mustChangePassword: z.boolean(),
  }),
  roles: z.array(GrantSchema),
  scope: z.array(
    z.object({ regionCode: z.string(), regionPath: z.string(), name: z.string(), level: z.string() }),
  ),
  permissions: z.array(z.string()),
});

export const CreateUserRequestSchema = z.object({
  username: z.string().min(3).max(64),
  displayName: z.string().min(1).max(64),
  password: z.string().min(8, '至少 8 个字符 (at least 8 characters)').max(256),
  mustChangePassword: z.boolean().default(true),
  grants: z
    .array(
      z.object({
        role: RoleSchema,
        regionCode: RegionCodeSchema.nullish(),
        departmentId: z.number().int().positive().nullish(),
        specialty: z.string().max(40).nullish(),
      }),
    )
    .min(1)
    .max(50),
});

export const ListUsersQuerySchema = PageQuerySchema.extend({
  region: RegionCodeSchema.optional(),
  role: RoleSchema.optional(),
});

export const UserListResponseSchema = z.object({
  items: z.array(UserSchema),
  nextCursor: z.string().nullable(),
});
