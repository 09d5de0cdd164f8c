import type { Schemas } from "../api/client";

export type Snapshot = Schemas["GroupSnapshotOut"];
export type Version = Schemas["VersionOut"];
export type Spec = Record<string, unknown> & {
  image?: string;
  flavor?: string;
  instances?: number;
  env?: Record<string, string>;
  config_files?: Record<string, string>;
};
export interface GroupPath {
  system: string;
  app: string;
  group: string;
}
