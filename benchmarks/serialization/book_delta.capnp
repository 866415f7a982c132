# BookDelta of examples/fx_market_maker.hftc.yaml, field for field, for the serialization
# comparison. Price and Qty are the int64 mantissas (10^-9 and 10^-4).
@0xc3d55c6cb5e914aa;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fx::mm::capn");

enum Side {
  unknown @0;
  buy @1;
  sell @2;
}

struct BookDelta {
  instrument @0 :UInt32;
  seq @1 :UInt64;
  tsExchange @2 :UInt64;
  side @3 :Side;
  price @4 :Int64;
  qty @5 :Int64;
  orderCount @6 :UInt16;
}
