import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ServiceConfig } from '../config/sections/routing';

const ECR_IMAGE =
  /^(?<account>\d{12})\.dkr\.ecr\.(?<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?\/(?<repo>[^:@]+)(:(?<tag>[^@]+)|@(?<digest>sha256:[0-9a-f]{64}))$/;

/**
 * The container image of a color. A private ECR image is referenced through its repository, so the task's
 * execution role gets pull permission on that repository only; any other registry (public ECR, Docker Hub)
 * is pulled anonymously.
 */
export function containerImage(scope: Construct, id: string, image: string): ecs.ContainerImage {
  const m = ECR_IMAGE.exec(image)?.groups;
  if (!m || m.account === undefined || m.region === undefined || m.repo === undefined) {
    return ecs.ContainerImage.fromRegistry(image);
  }
  const repository = ecr.Repository.fromRepositoryAttributes(scope, id, {
    repositoryName: m.repo,
    repositoryArn: `arn:aws:ecr:${m.region}:${m.account}:repository/${m.repo}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, m.tag ?? m.digest);
}

/** ECS secrets from the config's `secrets` (whole secret, or one JSON field). */
export function containerSecrets(
  scope: Construct,
  idPrefix: string,
  secrets: ServiceConfig['secrets'],
): Record<string, ecs.Secret> {
  const out: Record<string, ecs.Secret> = {};
  Object.entries(secrets).forEach(([name, value], i) => {
    const arn = typeof value === 'string' ? value : value.secretArn;
    const field = typeof value === 'string' ? undefined : value.field;
    // A complete ARN ends with the 6-character suffix Secrets Manager adds; grants need to know which.
    const secret = /-[A-Za-z0-9]{6}$/.test(arn)
      ? secretsmanager.Secret.fromSecretCompleteArn(scope, `${idPrefix}${i}`, arn)
      : secretsmanager.Secret.fromSecretPartialArn(scope, `${idPrefix}${i}`, arn);
    out[name] = ecs.Secret.fromSecretsManager(secret, field);
  });
  return out;
}
