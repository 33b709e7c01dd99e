export * from "./vale-ctl";
export * from "./pkt-gen";
