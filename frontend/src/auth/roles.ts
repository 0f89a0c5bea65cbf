import type { Role } from '../api/models';

const RANK: Record<Role, number> = { viewer: 0, trader: 1, admin: 2 };

/** True when `role` includes what `needed` may do (admin > trader > viewer). */
export function hasRole(role: Role | null | undefined, needed: Role): boolean {
  if (!role) return false;
  return (RANK[role] ?? -1) >= RANK[needed];
}
