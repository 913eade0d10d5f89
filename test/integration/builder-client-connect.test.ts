import { afterAll, beforeAll } from "vitest";
import { connectBuilder } from "../../edge/builder/connect.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";
import { freePort } from "../support/registry.ts";
import { builderClientContract } from "../edge/builder-client-contract.ts";

// The Connect client (the one the Worker and npm start use) in front of a real builder over
// nix/testpkgs: the same contract the in-memory builder passes.
const TOKEN = "contract-t0ken";
let builder: TestBuilder;
beforeAll(async () => {
  builder = await startTestBuilder({ token: TOKEN });
});
afterAll(() => builder?.stop());

builderClientContract("Connect client and a real builder", async () => ({
  client: connectBuilder({ baseUrl: `http://${builder.address}`, token: TOKEN }),
  known: "hello",
  failing: "broken",
  // A port nothing listens on.
  unreachable: async () => connectBuilder({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: TOKEN }),
}));
