/**
 * Credentials for a Node process (the builder, the Node edge, the all-in-one server): the
 * configured static keys, else the AWS SDK's default chain (environment, shared profile, SSO,
 * web identity, container and instance roles). The entry point makes one provider and hands
 * it to both the builder's uploads and the edge's presigner, so role credentials work for
 * both and are refreshed in one place. Node only: the Worker signs with its secrets.
 */
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { StorageConfig } from "./config.ts";
import { staticCredentials, type CredentialsProvider } from "./s3.ts";

export function nodeCredentials(config: Pick<StorageConfig, "credentials">): CredentialsProvider {
  if (config.credentials) return staticCredentials(config.credentials);
  // Memoized by the SDK: resolved once, refreshed shortly before temporary credentials expire.
  const chain = defaultProvider();
  return async () => {
    const { accessKeyId, secretAccessKey, sessionToken } = await chain();
    return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  };
}
