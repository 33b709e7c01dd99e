import { baseDoc, check, problems } from "../../../test/support/topology-test-fixtures";

describe("recipe images", () => {
  it("read as a recipe, with no URL and no digest", () => {
    const doc = baseDoc();
    doc.images = { lab: { recipe: "lab" } };
    (doc.vms as Record<string, Record<string, unknown>>).vm1.image = "lab";
    const result = check(doc);
    expect(result.issues).toEqual([]);
    expect(result.model?.images).toEqual([{ kind: "recipe", name: "lab", recipe: "lab", os: "linux" }]);
  });

  it("refuse a URL or a digest beside the recipe, and an unknown recipe, at their keys", () => {
    const doc = baseDoc();
    doc.images = {
      lab: { recipe: "lab", url: "https://example.org/d.qcow2", sha512: "ab" },
      other: { recipe: "ubuntu" },
      freebsd: { recipe: "lab", os: "freebsd" },
    };
    doc.vms = {};
    expect(problems(doc)).toEqual([
      "images.lab.url: image lab is built from recipe: here, so it has no url; remove url, or remove recipe to download the image",
      "images.lab.sha512: image lab is built from recipe: here, so it has no sha512; remove sha512, or remove recipe to download the image",
      'images.other.recipe: recipe must be lab, got "ubuntu"',
      'images.freebsd.os: os must be linux, got "freebsd"',
    ]);
  });

  it("need url or recipe", () => {
    const doc = baseDoc();
    doc.images = { debian12: { sha512: "ab" } };
    expect(problems(doc)[0]).toMatch(
      /^images\.debian12: image debian12 needs url: \(with sha256: or sha512:\) for a published image, or recipe: lab/,
    );
  });

  it("refuse a netmap hostPath source for their guests, which the controller builds", () => {
    const doc = baseDoc();
    doc.netmap = { source: { hostPath: "/srv/netmap" }, drivers: ["ixgbe"] };
    doc.images = { lab: { recipe: "lab" } };
    (doc.vms as Record<string, Record<string, unknown>>).vm1.image = "lab";
    expect(problems(doc)).toEqual([
      "vms.vm1.image: VM vm1 boots image lab, built from a recipe on this machine, which also builds its guests' netmap; netmap.source.hostPath exists only on the hosts: use git: or path: for netmap.source, or an image with url:",
    ]);
  });
});
