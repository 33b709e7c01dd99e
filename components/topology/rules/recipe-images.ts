/**
 * A recipe image's guests get netmap built on the controller, in the image's own root, for its
 * kernel (no internet in the guest). The controller can only build what it can read: a git
 * source or a path on this machine, not a hostPath that exists on the hosts alone.
 */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkRecipeImages: Rule = (t, r) => {
  const source = t.netmap?.source;
  if (source?.kind !== "hostPath") return;
  const recipeImages = new Set(t.images.filter((image) => image.spec?.kind === "recipe").map((i) => i.name));
  for (const vm of t.vms) {
    if (vm.image === undefined || !recipeImages.has(vm.image)) continue;
    r.report(
      childPath(vm.path, "image"),
      `VM ${vm.name} boots image ${vm.image}, built from a recipe on this machine, which also builds its guests' netmap; netmap.source.hostPath exists only on the hosts: use git: or path: for netmap.source, or an image with url:`,
    );
  }
};
