/**
 * The MEXC spot push schema as a protobufjs JSON descriptor, for
 * `protobuf.Root.fromJSON`: the `.proto` files beside this module, converted
 * with `protobuf.loadSync("PushDataV3ApiWrapper.proto").toJSON()` (top-level
 * file options dropped). `mexc_test.ts` checks that the two agree; regenerate
 * this file when a `.proto` file changes. Kept as code so the adapter reads no
 * file at run time.
 *
 * @module
 */

import type { INamespace } from "protobufjs";

/** Descriptor of `PushDataV3ApiWrapper` and the two bodies coby decodes. */
export const MEXC_PUSH_DESCRIPTOR: INamespace = {
  "nested": {
    "PushDataV3ApiWrapper": {
      "oneofs": {
        "body": {
          "oneof": [
            "publicAggreDepths",
            "publicAggreDeals",
          ],
        },
        "_symbol": {
          "oneof": [
            "symbol",
          ],
        },
        "_symbolId": {
          "oneof": [
            "symbolId",
          ],
        },
        "_createTime": {
          "oneof": [
            "createTime",
          ],
        },
        "_sendTime": {
          "oneof": [
            "sendTime",
          ],
        },
      },
      "fields": {
        "channel": {
          "type": "string",
          "id": 1,
        },
        "publicAggreDepths": {
          "type": "PublicAggreDepthsV3Api",
          "id": 313,
        },
        "publicAggreDeals": {
          "type": "PublicAggreDealsV3Api",
          "id": 314,
        },
        "symbol": {
          "type": "string",
          "id": 3,
          "options": {
            "proto3_optional": true,
          },
        },
        "symbolId": {
          "type": "string",
          "id": 4,
          "options": {
            "proto3_optional": true,
          },
        },
        "createTime": {
          "type": "int64",
          "id": 5,
          "options": {
            "proto3_optional": true,
          },
        },
        "sendTime": {
          "type": "int64",
          "id": 6,
          "options": {
            "proto3_optional": true,
          },
        },
      },
    },
    "PublicAggreDepthsV3Api": {
      "fields": {
        "asks": {
          "rule": "repeated",
          "type": "PublicAggreDepthV3ApiItem",
          "id": 1,
        },
        "bids": {
          "rule": "repeated",
          "type": "PublicAggreDepthV3ApiItem",
          "id": 2,
        },
        "eventType": {
          "type": "string",
          "id": 3,
        },
        "fromVersion": {
          "type": "string",
          "id": 4,
        },
        "toVersion": {
          "type": "string",
          "id": 5,
        },
      },
    },
    "PublicAggreDepthV3ApiItem": {
      "fields": {
        "price": {
          "type": "string",
          "id": 1,
        },
        "quantity": {
          "type": "string",
          "id": 2,
        },
      },
    },
    "PublicAggreDealsV3Api": {
      "fields": {
        "deals": {
          "rule": "repeated",
          "type": "PublicAggreDealsV3ApiItem",
          "id": 1,
        },
        "eventType": {
          "type": "string",
          "id": 2,
        },
      },
    },
    "PublicAggreDealsV3ApiItem": {
      "fields": {
        "price": {
          "type": "string",
          "id": 1,
        },
        "quantity": {
          "type": "string",
          "id": 2,
        },
        "tradeType": {
          "type": "int32",
          "id": 3,
        },
        "time": {
          "type": "int64",
          "id": 4,
        },
        "tradeId": {
          "type": "string",
          "id": 5,
        },
      },
    },
  },
};
