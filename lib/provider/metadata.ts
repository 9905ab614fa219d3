import type { Configuration, ServerMetadata, ServerMetadataHelpers } from 'openid-client';

export type Metadata = Readonly<ServerMetadata> & ServerMetadataHelpers;

const cache = new WeakMap<Configuration, Metadata>();

/**
 * The provider's metadata of a configuration. openid-client's serverMetadata() returns a deep
 * copy (structuredClone) on every call, tens of µs per request; a configuration's metadata
 * never changes (a new discovery makes a new configuration), so one frozen copy serves all.
 */
export function metadataOf(config: Configuration): Metadata {
  let metadata = cache.get(config);
  if (metadata === undefined) {
    metadata = Object.freeze(config.serverMetadata());
    cache.set(config, metadata);
  }
  return metadata;
}
