import assert from "node:assert/strict";
import { binanceFuturesAdapter } from "../adapters/binance_futures.ts";
import { resolveSymbols } from "./symbols.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

Deno.test("symbols: selectors resolve against Binance USD-M's real instruments", async () => {
  const line =
    (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.0`)).split("\n")[0];
  const insts = binanceFuturesAdapter.instruments([
    line.slice(line.indexOf(": ") + 2),
  ]);
  const dated = insts.find((i) => i.market === "future")!;
  const d = new Date(dated.expiry!);
  const yymmdd = `${d.getUTCFullYear() % 100}${
    String(d.getUTCMonth() + 1).padStart(2, "0")
  }${String(d.getUTCDate()).padStart(2, "0")}`;
  const { found, missing } = resolveSymbols(
    [
      "SUSHIUSDT",
      "BTC-USDT",
      "ETH-USDT-PERP",
      `${dated.symbol}-${yymmdd}`,
      "NOPE-USDT",
    ],
    insts,
  );
  assert.deepEqual(found.map((i) => i.exchangeSymbol), [
    "SUSHIUSDT",
    "BTCUSDT", // the perpetual before dated futures
    "ETHUSDT",
    dated.exchangeSymbol,
  ]);
  assert.deepEqual(missing, ["NOPE-USDT"]);
});
