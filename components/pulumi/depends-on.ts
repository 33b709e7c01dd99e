import * as pulumi from "@pulumi/pulumi";

type DependsOn = pulumi.ResourceOptions["dependsOn"];

/** The caller's dependsOn plus more resources to wait for (no property dependency). */
export function waitFor(dependsOn: DependsOn, ...extra: (pulumi.Resource | undefined)[]): DependsOn {
  const more = extra.filter((resource): resource is pulumi.Resource => resource !== undefined);
  if (more.length === 0) return dependsOn;
  if (dependsOn === undefined) return more;
  if (Array.isArray(dependsOn)) return [...dependsOn, ...more];
  if (pulumi.Resource.isInstance(dependsOn)) return [dependsOn, ...more];
  // An Output or a promise of resources: the SDK resolves a list of them as it does any input.
  return pulumi
    .output(dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[]>)
    .apply((list) => [...list, ...more]);
}
