#!/usr/bin/env node
// nixport-build: the package's command. Loads the TypeScript CLI through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr, process.env);
