// The tenant's spaces: a dozen made-up ones to page through, plus those a client creates.
import { randomBytes } from 'node:crypto';
import { SPACES, TENANT_ID, type Space } from './fake-data.ts';

/** A cap, so a client creating spaces in a loop cannot fill the sandbox's memory. */
export const MAX_SPACES = 1_000;

export interface SpaceStore {
  /** In creation order, which is also the listing order. */
  byId: Map<string, Space>;
}

export function createSpaces(): SpaceStore {
  return { byId: new Map(SPACES.map((space) => [space.id, { ...space }])) };
}

export function findSpaceByName(store: SpaceStore, name: string): Space | undefined {
  const wanted = name.toLowerCase();
  for (const space of store.byId.values()) if (space.name.toLowerCase() === wanted) return space;
  return undefined;
}

export function addSpace(store: SpaceStore, fields: { name: string; type: Space['type']; description?: string; ownerId: string }, now: number): Space {
  const space: Space = {
    id: randomBytes(12).toString('hex'), // Qlik's ids are 24 hex digits
    name: fields.name,
    type: fields.type,
    tenantId: TENANT_ID,
    ownerId: fields.ownerId,
    createdAt: new Date(now).toISOString(),
    ...(fields.description === undefined ? {} : { description: fields.description }),
  };
  store.byId.set(space.id, space);
  return space;
}

/** A space as the API shows it: Qlik's fields plus its absolute self link. */
export function spaceJson(space: Space, baseUrl: string): Record<string, unknown> {
  return { ...space, links: { self: { href: `${baseUrl}/api/v1/spaces/${space.id}` } } };
}
