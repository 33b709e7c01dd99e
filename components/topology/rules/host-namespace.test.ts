import { baseDoc, problems, type Doc } from "../../../test/support/topology-test-fixtures";

describe("host interface namespace", () => {
  it("allows the same port name on switches of different hosts", () => {
    const doc = baseDoc();
    doc.hosts = { ...(doc.hosts as Doc), h2: { ...((doc.hosts as Doc).h1 as Doc) } };
    doc.switches = { vale0: { host: "h1", ports: { a: {} } }, vale1: { host: "h2", ports: { a: {} } } };
    doc.vms = {};
    expect(problems(doc)).toEqual([]);
  });

  it("refuses a port named like the management interface", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { eno1: {} } } };
    doc.vms = {};
    expect(problems(doc)).toEqual([
      expect.stringMatching(
        /^switches\.vale0\.ports\.eno1: VALE port eno1 .* already the management interface of host h1/,
      ),
    ]);
  });

  it("refuses a pipe named like a VALE port", () => {
    const doc = baseDoc();
    doc.pipes = { a: { host: "h1" } };
    expect(problems(doc)).toEqual([
      expect.stringMatching(/^pipes\.a: pipe a has the name of VALE port a of switch vale0/),
    ]);
  });
});
