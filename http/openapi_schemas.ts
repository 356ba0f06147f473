/**
 * The answers of the HTTP API as zod schemas, for its OpenAPI description
 * (`/openapi.json`): the error body every route shares, and each route's
 * JSON answer with an example taken from a real replay of the shared
 * captures. Request schemas live with their routes (`http/routes/*.ts`),
 * where they validate.
 *
 * Units: prices in quote currency, sizes in base currency, times in ms since
 * the epoch (UTC).
 *
 * @module
 */

import { z } from "@hono/zod-openapi";

/** A JSON media type entry of a response: the schema and its example. */
function json<T extends z.ZodType>(schema: T, example: z.input<T>) {
  return { "application/json": { schema, example } };
}

/** `{error, code}`: the body of every error answer. */
const ErrorSchema = z.object({
  error: z.string().openapi({
    description: "What went wrong, naming the bad value.",
  }),
  code: z.string().openapi({
    description:
      "Machine-readable: an actor's code (`not_followed`, `actor_down`, …) or one named after the status (`bad_request`, `not_found`, …).",
  }),
}).openapi("Error");

/** What one error status of a route means, and an example of its body. */
export interface ErrorDoc {
  /** When the route answers it. */
  description: string;
  /** An example body. */
  example: z.input<typeof ErrorSchema>;
}

/**
 * Error answers of a route for its `responses`, each `{error, code}`.
 * @param docs error docs by status.
 * @returns `responses` entries by status.
 * @example
 * ```ts
 * createRoute({ …, responses: { 200: ok, ...errors({ 400: { description: "bad", example: { error: "…", code: "bad_request" } } }) } });
 * ```
 */
export function errors<S extends number>(docs: Record<S, ErrorDoc>) {
  const out = {} as Record<
    S,
    { description: string; content: ReturnType<typeof errorContent> }
  >;
  for (const [status, d] of Object.entries<ErrorDoc>(docs)) {
    out[Number(status) as S] = {
      description: d.description,
      content: errorContent(d),
    };
  }
  return out;
}

function errorContent(d: ErrorDoc) {
  return json(ErrorSchema, d.example);
}

/** The 400 of a route whose input failed validation, with its zod message. */
export function badRequest(example: string): Record<400, ErrorDoc> {
  return {
    400: {
      description: "A bad parameter or body: the zod message",
      example: { error: example, code: "bad_request" },
    },
  };
}

/**
 * A response of one JSON answer.
 * @param description what it holds.
 * @param schema its schema.
 * @param example an example that the schema accepts.
 * @returns a `responses` entry.
 */
export function jsonAnswer<T extends z.ZodType>(
  description: string,
  schema: T,
  example: z.input<T>,
) {
  return { description, content: json(schema, example) };
}

/** `[price, size]` levels, best first. */
const Levels = z.array(z.tuple([z.number(), z.number()]));

/** An L2 book, best levels first (`BookView` of `actors/market/requests.ts`). */
export const BookSchema = z.object({
  exchange: z.string(),
  exchangeSymbol: z.string().openapi({ description: "The venue's symbol" }),
  symbol: z.string().openapi({ description: "Normalized BASE-QUOTE" }),
  market: z.enum(["spot", "perpetual", "future"]),
  state: z.string().openapi({
    description: "`synced` (or `unsynced` for a recorded book at `at`)",
  }),
  lastSequence: z.number(),
  bids: Levels,
  asks: Levels,
}).openapi("Book");

/** An example book (Binance BTCUSDT, from the shared capture). */
export const BOOK_EXAMPLE: z.input<typeof BookSchema> = {
  exchange: "binance",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot",
  state: "synced",
  lastSequence: 43_209_421_001,
  bids: [[42_501.3, 0.812], [42_501.2, 0.05]],
  asks: [[42_501.4, 1.204], [42_501.9, 0.3]],
};

/** A replay session's progress (`ReplayProgress` of `actors/market/requests.ts`). */
export const ReplayProgressSchema = z.object({
  id: z.string(),
  state: z.enum(["loading", "playing", "paused", "ended", "stopped", "failed"]),
  speed: z.union([z.number(), z.literal("max")]),
  loop: z.boolean(),
  from: z.number().openapi({
    description: "Start of the range, event time ms",
  }),
  to: z.number().openapi({ description: "End of the range (exclusive), ms" }),
  position: z.number().openapi({ description: "Event time reached, ms" }),
  percent: z.number().openapi({ description: "0–100" }),
  events: z.number(),
  eventsPerSecond: z.number(),
  expectedEnd: z.number().nullable().openapi({
    description:
      "Wall-clock ms when it should end at this speed; null while paused, loading or ended",
  }),
  exchanges: z.array(z.string()),
  error: z.string().optional().openapi({ description: "Why it failed" }),
}).openapi("ReplayProgress");

/** An example progress of a session replaying the Binance capture. */
export const PROGRESS_EXAMPLE: z.input<typeof ReplayProgressSchema> = {
  id: "r1",
  state: "playing",
  speed: 10,
  loop: false,
  from: 1_609_459_200_000,
  to: 1_609_459_800_000,
  position: 1_609_459_260_000,
  percent: 10,
  events: 48_211,
  eventsPerSecond: 8_034,
  expectedEnd: 1_767_614_454_000,
  exchanges: ["binance"],
};

/** One venue's mid in a consolidation (`VenueMid` of `actors/market/heatmap.ts`). */
const VenueMidSchema = z.object({
  exchange: z.string(),
  exchangeSymbol: z.string(),
  mid: z.number(),
  weight: z.number().openapi({
    description: "Resting size near its mid, base currency",
  }),
  deviation: z.number().openapi({ description: "mid / consensus mid − 1" }),
});

/** One side of a cross between venues. */
const VenueQuoteSchema = z.object({
  exchange: z.string(),
  exchangeSymbol: z.string(),
  price: z.number(),
});

/** How a column was consolidated (`ConsolidationInfo` of `actors/market/heatmap.ts`). */
const ConsolidationSchema = z.object({
  mid: z.number().openapi({
    description: "Consensus mid: liquidity-weighted median of the venues' mids",
  }),
  range: z.number(),
  outlierThreshold: z.number(),
  venues: z.array(VenueMidSchema).readonly(),
  excluded: z.array(VenueMidSchema.extend({ reason: z.string() })).readonly(),
  crossed: z.boolean(),
  cross: z.object({ bid: VenueQuoteSchema, ask: VenueQuoteSchema }).nullable(),
});

/** One heatmap column (`ColumnPayload` of `actors/system/hub.ts`), also a stored one. */
export const ColumnSchema = z.object({
  ts: z.number(),
  symbol: z.string(),
  bucketSize: z.number().openapi({
    description: "Price bucket width, quote currency",
  }),
  lo: z.number().openapi({
    description: "Index of the first bucket: prices from lo · bucketSize",
  }),
  bids: z.array(z.number()).openapi({
    description: "Resting bid size per bucket, base currency",
  }),
  asks: z.array(z.number()),
  buys: z.array(z.number()).openapi({
    description: "Taker buy volume per bucket",
  }),
  sells: z.array(z.number()),
  bestBid: z.number().nullable(),
  bestAsk: z.number().nullable(),
  mid: z.number().nullable(),
  exchanges: z.array(z.string()),
  consolidation: ConsolidationSchema.nullable().optional().openapi({
    description:
      "Consensus mid, excluded venues, crossed venues; null for a column not merged",
  }),
  liquidations: z.array(z.object({
    bucket: z.number().openapi({
      description: "Absolute bucket index, like lo",
    }),
    longs: z.number().openapi({
      description: "Longs liquidated (forced sells), base currency",
    }),
    shorts: z.number().openapi({
      description: "Shorts liquidated (forced buys), base currency",
    }),
  })),
}).openapi("Column");

/** An example column. */
export const COLUMN_EXAMPLE: z.input<typeof ColumnSchema> = {
  ts: 1_609_459_201_000,
  symbol: "BTC-USDT",
  bucketSize: 10,
  lo: 4_248,
  bids: [0.5, 2.25, 0],
  asks: [0, 1.5, 3.1],
  buys: [0, 0.02, 0],
  sells: [0.1, 0, 0],
  bestBid: 42_501.3,
  bestAsk: 42_501.4,
  mid: 42_501.35,
  exchanges: ["binance"],
  consolidation: null,
  liquidations: [],
};

/** A trade or liquidation row (`TradeRow` of `actors/store/queries/trades.ts`). */
export const TradeSchema = z.object({
  ts: z.number().openapi({ description: "Local receive time, ms" }),
  exchangeTs: z.number().nullable().openapi({
    description: "The venue's own time, ms",
  }),
  exchange: z.string(),
  symbol: z.string(),
  price: z.number(),
  size: z.number(),
  rawSize: z.number().nullable().openapi({
    description: "Size as the venue sent it (contracts)",
  }),
  side: z.enum(["buy", "sell"]),
}).openapi("Trade");

/** An example trade. */
export const TRADE_EXAMPLE: z.input<typeof TradeSchema> = {
  ts: 1_609_459_201_127,
  exchangeTs: 1_609_459_201_120,
  exchange: "binance",
  symbol: "BTCUSDT",
  price: 42_501.4,
  size: 0.015,
  rawSize: 0.015,
  side: "buy",
};

/** An OHLCV bar (`Bar` of `actors/store/queries/ohlcv.ts`). */
export const BarSchema = z.object({
  ts: z.number().openapi({ description: "Bar open, ms" }),
  exchange: z.string(),
  symbol: z.string(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  buyVolume: z.number(),
  sellVolume: z.number(),
  trades: z.number(),
}).openapi("Bar");

/** An example bar. */
export const BAR_EXAMPLE: z.input<typeof BarSchema> = {
  ts: 1_609_459_200_000,
  exchange: "consolidated",
  symbol: "BTC-USDT",
  open: 42_490,
  high: 42_530.5,
  low: 42_480.1,
  close: 42_501.4,
  volume: 12.5,
  buyVolume: 7.25,
  sellVolume: 5.25,
  trades: 311,
};

/** A window's mean imbalance (`ImbalanceRow` of `actors/store/queries/imbalances.ts`). */
export const ImbalanceSchema = z.object({
  ts: z.number(),
  exchange: z.string(),
  symbol: z.string(),
  depth: z.number(),
  bidSize: z.number(),
  askSize: z.number(),
  imbalance: z.number().nullable(),
}).openapi("Imbalance");

/** An example imbalance window. */
export const IMBALANCE_EXAMPLE: z.input<typeof ImbalanceSchema> = {
  ts: 1_609_459_200_000,
  exchange: "binance",
  symbol: "BTCUSDT",
  depth: 20,
  bidSize: 14.2,
  askSize: 9.8,
  imbalance: 0.183,
};

/** The inference frame of a symbol (`Frame` of `actors/store/queries/frame.ts`). */
export const FrameSchema = z.object({
  symbol: z.string(),
  at: z.number(),
  from: z.number(),
  series: z.array(z.looseObject({})),
  ohlcv: z.record(z.string(), z.array(BarSchema)),
  books: z.array(BookSchema),
  imbalances: z.array(ImbalanceSchema),
  trades: z.array(TradeSchema),
  liquidations: z.array(TradeSchema),
  quality: z.looseObject({}),
}).openapi("Frame");

/** What the heatmap hub keeps (`HubStats` of `actors/system/hub.ts`). */
const HubStatsSchema = z.object({
  symbols: z.number(),
  ticks: z.number(),
  bytes: z.number(),
  followers: z.number(),
});

/** `GET /healthz`. */
export const HealthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  actors: z.array(z.object({
    id: z.string(),
    state: z.string(),
    restart: z.string(),
    circuit: z.enum(["closed", "open"]),
    restarts: z.number(),
    lastError: z.string().nullable(),
  })),
  heatmap: HubStatsSchema,
}).openapi("Health");

/** A connection's or an exchange's health (`/api/v1/exchanges`). */
const HealthFields = {
  exchange: z.string(),
  state: z.string(),
  connection: z.enum(["connected", "connecting", "disconnected"]),
  lastMessageTs: z.number().nullable(),
  lastMessageAgeMs: z.number().nullable(),
  messageRate: z.number().openapi({ description: "Frames per second" }),
  restarts: z.number(),
  venueError: z.object({
    message: z.string(),
    symbol: z.string().optional(),
    ts: z.number(),
  }).nullable(),
  counters: z.record(z.string(), z.number()),
  books: z.record(
    z.string(),
    z.object({ state: z.string(), lastSequence: z.number() }),
  ),
};

/** `GET /api/v1/exchanges`. */
export const ExchangesSchema = z.object({
  exchanges: z.array(z.object({
    ...HealthFields,
    consolidation: z.object({
      excluded: z.boolean(),
      since: z.number().nullable(),
      symbols: z.array(z.object({
        exchangeSymbol: z.string(),
        symbol: z.string().openapi({ description: "Consolidation key" }),
        since: z.number().openapi({
          description: "First tick of this run of exclusions, ms",
        }),
        ts: z.number().openapi({ description: "Last tick excluded, ms" }),
        mid: z.number().nullable(),
        consensusMid: z.number().nullable(),
        deviation: z.number().nullable().openapi({
          description: "mid / consensusMid − 1",
        }),
        reason: z.string(),
      })),
    }),
    connections: z.array(z.object({
      ...HealthFields,
      actor: z.string(),
      circuit: z.enum(["closed", "open"]),
      lastError: z.string().nullable(),
    })),
  })),
}).openapi("Exchanges");
