import { builderClientContract } from "../edge/builder-client-contract.ts";
import { MemoryBuilder } from "../edge/memory-builder.ts";

const failing = { broken: { derivation: "/nix/store/0000-broken.drv", logTail: "error: broken on purpose" } };

builderClientContract("in-memory builder", async () => ({
  client: new MemoryBuilder({ packages: ["hello", "broken"], failing }),
  known: "hello",
  failing: "broken",
  unreachable: () => Object.assign(new MemoryBuilder({ packages: ["hello"] }), { down: "unavailable" as const }),
}));
