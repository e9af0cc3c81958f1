// The sandbox tenant's made-up contents: users (any name signs in) and a dozen spaces.
import { createHash } from 'node:crypto';

export const TENANT_ID = 'sandbox-tenant';
const CREATED_AT = '2024-01-15T09:00:00.000Z';

/** A stable 24-hex-digit id (the shape of Qlik's ids), derived from a name so it never changes. */
function stableId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 24);
}

/** "ada" → "Ada", "ada.lovelace" → "Ada Lovelace". */
function displayName(user: string): string {
  const words = user.split(/[._-]+/).filter((word) => word !== '');
  return words.length === 0 ? user : words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join(' ');
}

/** A token's user: a person's sign-in name, or the bot of a machine-to-machine client. */
export const BOT_PREFIX = 'bot:';

/** Users the tenant knows before anyone signs in, so impersonation has someone to find. */
export const DIRECTORY_USERS: readonly string[] = ['ada', 'grace.hopper', 'alan.turing'];

export function userId(user: string): string {
  return stableId(`user:${user}`);
}

export function userSubject(user: string): string {
  return `sandbox|${user}`;
}

/** The body of GET /api/v1/users/{id} (where users/me leads), shaped like Qlik's User object. */
export function userFor(user: string, baseUrl: string): Record<string, unknown> {
  const id = userId(user);
  const bot = user.startsWith(BOT_PREFIX);
  return {
    id,
    name: bot ? `${user.slice(BOT_PREFIX.length)} (bot)` : displayName(user),
    // Qlik gives an M2M client's bot user its own subject; this format is the sandbox's own.
    subject: bot ? `sandbox-bot|${user.slice(BOT_PREFIX.length)}` : userSubject(user),
    tenantId: TENANT_ID,
    ...(bot ? {} : { email: `${user}@sandbox.example` }),
    status: 'active',
    createdAt: CREATED_AT,
    lastUpdatedAt: CREATED_AT,
    assignedRoles: [{ id: stableId('role:Developer'), name: 'Developer', type: 'default', level: 'user' }],
    links: { self: { href: `${baseUrl}/api/v1/users/${id}` } },
  };
}

export const SPACE_TYPES = ['shared', 'managed', 'data'] as const;

/** A space as Qlik describes one (id, name, tenantId, type; links are added when shown). */
export interface Space {
  id: string;
  name: string;
  type: (typeof SPACE_TYPES)[number];
  tenantId: string;
  ownerId: string;
  createdAt: string;
  description?: string;
}

const SPACE_NAMES = [
  'Finance', 'Sales', 'Marketing', 'Operations', 'Human Resources', 'Supply Chain',
  'Customer Success', 'Engineering', 'Data Platform', 'Executive', 'Sandbox Playground', 'Archive',
];

export const SPACES: readonly Space[] = SPACE_NAMES.map((name, index) => ({
  id: stableId(`space:${name}`),
  name,
  type: SPACE_TYPES[index % SPACE_TYPES.length]!,
  tenantId: TENANT_ID,
  ownerId: userId('ada'),
  createdAt: new Date(Date.UTC(2024, 0, index + 1, 9)).toISOString(),
}));
