"""Every diagnostic code hftc can emit, with the long form `hftc explain` prints.

Codes are stable: a code is never reused for a different problem. Ranges:
HFT00xx input and YAML, HFT01xx schema shape, HFT02xx imports, HFT03xx types and
layout, HFT04xx components and pipelines, HFT05xx strategies and expressions,
HFT06xx deployments and monitoring, HFT07xx versioning, HFT08xx build and
backends, HFT09xx lints (warnings).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeInfo:
    code: str
    title: str
    explanation: str


_CODES = [
    ("HFT0000", "internal compiler error", "hftc itself failed on this input. This is always a bug in hftc, not in the schema. Rerun with HFTC_DEBUG=1 to see the traceback and report it with the schema that triggers it."),
    ("HFT0001", "cannot read file", "The schema file does not exist or cannot be read. Check the path and permissions."),
    ("HFT0002", "file is not UTF-8 text", "Schemas are UTF-8 YAML text. The file holds bytes that are not valid UTF-8, often because a binary file was passed by mistake."),
    ("HFT0003", "YAML syntax error", "The file is not well-formed YAML. The caret points where the YAML parser gave up; the problem is often just before it (an unclosed quote or bracket, a bad indentation)."),
    ("HFT0004", "duplicate key", "A mapping holds the same key twice. YAML parsers usually keep the last one silently, which hides mistakes, so hftc rejects it. Remove or rename one of the two."),
    ("HFT0005", "tab used for indentation", "YAML forbids tab characters in indentation. Replace tabs with spaces (two per level is conventional)."),
    ("HFT0006", "empty document", "The file holds no YAML document. Start from `hftc init NAME` for a working skeleton."),
    ("HFT0007", "unknown document form", "hftc accepts three document forms: a full schema (`hftc: 1` at the top), a component document (`type: hft_component`) and a strategy template (`name`, `type`, `parameters`, `objectives`). The top level of this file matches none of them."),
    ("HFT0008", "unsupported language version", "The `hftc:` key names the schema language version. This compiler understands version 1."),
    ("HFT0009", "YAML feature not supported", "Schemas use plain YAML mappings, sequences and scalars. Multiple documents in one file, and custom tags, are not supported."),
    ("HFT0101", "unknown key", "The key is not part of the schema language at this place. It is often a misspelling; the help line suggests the closest known key. Unknown keys are errors, not ignored, so a typo never silently drops a setting."),
    ("HFT0102", "missing required key", "This section needs the named key."),
    ("HFT0103", "wrong value type", "The value has the wrong YAML type for this key (for example text where a number is expected)."),
    ("HFT0104", "value out of range", "The number is outside the range this key accepts (for example a message id must fit in uint16, a budget must be positive)."),
    ("HFT0105", "invalid value", "The value is not one of the values this key accepts."),
    ("HFT0106", "invalid name", "Names of types, messages, fields, components, pipelines and strategies must be identifiers: a letter followed by letters, digits or underscores. They become names in C++, Rust and Python."),
    ("HFT0107", "reserved name", "The name is a keyword in one of the generated languages (C++, Rust or Python) and cannot be used as an identifier."),
    ("HFT0201", "import not found", "An entry of `imports:` names a file that does not exist. Imports are resolved relative to the importing file."),
    ("HFT0202", "import cycle", "Files import each other in a cycle. Move the shared definitions to a file that both import."),
    ("HFT0203", "duplicate definition", "The same name is defined twice, in this file or in an imported file. Names share one namespace per kind (types, messages, components, ...)."),
    ("HFT0204", "imported file is not a schema", "Only full schema documents (`hftc: 1`) can be imported."),
    ("HFT0301", "unknown type", "A field or type refers to a type that is neither a primitive (int8..int64, uint8..uint64, float32, float64, char) nor defined under `types:` (here or in an import)."),
    ("HFT0302", "duplicate message id", "Every message needs a distinct `id`: it is the template id on the wire that the dispatcher switches on."),
    ("HFT0303", "enum value does not fit its encoding", "Each enum value must fit the enum's encoding type and must not equal the encoding's null value, which is reserved to mean 'absent'."),
    ("HFT0304", "bitset choice out of range", "A bitset choice names a bit position, which must be below the width of the encoding type."),
    ("HFT0305", "invalid decimal type", "A decimal is an integer mantissa (`decimal: int64`) and a power-of-ten `exponent` between -18 and 18."),
    ("HFT0306", "invalid fixed array", "Arrays and char arrays need a positive length; arrays hold primitives, enums, decimals or composites."),
    ("HFT0307", "recursive type", "A composite contains itself, directly or through other composites, so it would have infinite size."),
    ("HFT0308", "duplicate member name", "A message's fields, groups and var-data share one namespace, as they become accessors of one class."),
    ("HFT0309", "since_version newer than the schema", "A field, group or message cannot appear in a version newer than the schema's own `version`."),
    ("HFT0310", "block too large", "A message or group block must fit the uint16 block length of the message header."),
    ("HFT0311", "invalid explicit offset", "An explicit `offset:` must not overlap the previous field."),
    ("HFT0312", "null value does not fit", "An optional field's `null_value` must be representable in the field's type."),
    ("HFT0313", "optional field without a null value", "A field marked `optional: true` needs a value that means 'absent'. Primitive integers use their type's null (for example uint32 max); this type has none, so give `null_value`."),
    ("HFT0401", "unknown component", "A pipeline stage or thread names a component that is not defined under `components:`."),
    ("HFT0402", "pipeline over its latency budget", "The sum of the stages' `budget_ns` exceeds the pipeline's `targets.latency_p99_ns`. Either a stage is over-budgeted or the target is unrealistic; the two places are shown."),
    ("HFT0403", "thread for a stage not in the pipeline", "`threads:` may only name stages of the same pipeline."),
    ("HFT0404", "queue capacity not a power of two", "SPSC rings index with a mask, so their capacity must be a power of two."),
    ("HFT0405", "CPU assigned twice", "Two threads of a pipeline are pinned to the same CPU, which makes them compete for it."),
    ("HFT0406", "unknown message", "A component's `input`/`output` names a message that is not defined under `messages:`."),
    ("HFT0407", "unknown strategy", "A strategy component refers to a strategy that is not defined under `strategies:`."),
    ("HFT0408", "component misses a setting its kind needs", "Some component kinds need settings: an order_book needs `tick`, a strategy component needs `strategy`, an order_gateway needs `output`."),
    ("HFT0409", "stage listed twice", "A component can appear once in a pipeline."),
    ("HFT0410", "unknown pipeline", "A deployment's `pipeline:` names a pipeline that is not defined under `pipelines:`."),
    ("HFT0501", "parameter default outside its range", "A strategy parameter's `default` must lie within its `range: [low, high]`."),
    ("HFT0502", "empty or inverted range", "A parameter range `[low, high]` needs low < high."),
    ("HFT0503", "unknown strategy template", "`template:` names one of the strategy templates shipped with hftc."),
    ("HFT0504", "unknown objective", "Objectives name metrics the backtester computes: pnl, sharpe_ratio, sortino_ratio, max_drawdown, turnover, fill_ratio, latency."),
    ("HFT0505", "invalid constraint", "A constraint is a comparison like `max_leverage <= 3.0`."),
    ("HFT0510", "expression syntax error", "The text is not a valid strategy expression. Expressions use numbers, parameter and `let` names, `book.*` fields, arithmetic, comparisons, `and`/`or`/`not`, `if c then a else b`, and the built-in functions (abs, min, max, clamp, sqrt, log, exp, ema, sma, std, zscore, delta)."),
    ("HFT0511", "unknown name in expression", "The expression uses a name that is not a parameter, a `let` binding, a state variable (position, pnl, last_trade.*), a `book.*` field or an instrument of the strategy."),
    ("HFT0512", "type mismatch in expression", "An operator or function got operands of the wrong type, for example `and` on numbers or `+` on booleans."),
    ("HFT0513", "wrong number of arguments", "A built-in function was called with the wrong number of arguments."),
    ("HFT0514", "invalid window", "The window of a stateful function (ema, sma, std, zscore and their time-based variants) must be a positive constant or parameter, so its state has a fixed size."),
    ("HFT0515", "unknown book field", "Book fields are bid, ask, bid_qty, ask_qty, mid, microprice, imbalance and spread."),
    ("HFT0516", "cyclic let bindings", "`let` bindings refer to each other in a cycle, so none of them can be computed first."),
    ("HFT0517", "expression has the wrong result type", "This place expects a number (prices, quantities, signals) or a boolean (`when`, entry and exit rules, constraints)."),
    ("HFT0601", "invalid duration", "Durations are written like `500ms`, `5s`, `2m` or `1h`."),
    ("HFT0602", "unknown site", "Sites are colocation or cloud location names (letters, digits, dashes)."),
    ("HFT0610", "deployment without Kubernetes settings", "The k8s target generates an overlay only for deployments with a `kubernetes:` section; this deployment has none and is left out."),
    ("HFT0611", "metrics port equals health port", "The engine's Prometheus exporter and its HTTP health endpoint need different ports: the pod declares both as named container ports, and probes and scrapes must reach different handlers."),
    ("HFT0612", "metrics ports disagree", "`kubernetes.metrics_port` of the deployment differs from `monitoring.metrics_port`. The PodMonitor scrapes the deployment's port, while other targets (Terraform security groups, dashboards) assume the monitoring one. Make them agree."),
    ("HFT0613", "huge pages exhaust memory", "`nodes.memory_gb` is the memory the engine needs, 1 GiB huge pages included; the container's ordinary memory limit is `memory_gb - hugepages_1gi`, which must be positive."),
    ("HFT0614", "bad isolated CPU list", "`nodes.isolated_cpus` must be a Linux cpuset list (`2-15`, `2-7,10-15`) that leaves at least one CPU, normally CPU 0, for housekeeping: the kernel, kubelet and container runtime. The CPUs below the highest isolated one that are not isolated become the reserved set of the PerformanceProfile and KubeletConfiguration."),
    ("HFT0615", "fewer isolated CPUs than dedicated CPUs", "The pod gets `cpu_cores` exclusive CPUs, but fewer CPUs are isolated from the kernel's timer ticks, IRQs and kworkers, so some of the engine's CPUs will be disturbed. Isolate at least `cpu_cores` CPUs or lower `cpu_cores`."),
    ("HFT0616", "no CPU left for housekeeping", "The pipeline pins as many threads as the pod has CPUs. The engine also runs a housekeeping thread (metrics, health probes, logging) that must not share a core with a busy-polling hot-path thread: give the pod at least one more CPU than pinned threads."),
    ("HFT0617", "huge pages used but not requested", "The pipeline lists the `hugepages` feature but the deployment requests no 1 GiB huge pages; memory pools would fall back to 4 KiB pages and suffer TLB misses."),
    ("HFT0618", "no SR-IOV interface", "Without `nodes.sriov`, order and market-data traffic goes through the cluster network (the CNI's virtual interfaces, extra hops and softirq work) and is blocked by the generated default-deny NetworkPolicy. Use an SR-IOV VF or add a policy allowing egress to the venue."),
    ("HFT0619", "runtime class does not match the performance profile", "The Node Tuning Operator creates a RuntimeClass named `performance-<profile>` that enables the CRI-O CPU, quota and IRQ annotations. The k8s target names the PerformanceProfile after `runtime_class` without that prefix; a runtime class without it matches no profile."),
    ("HFT0621", "deployment without sites", "Without `sites`, the engine is not tied to a colocation site and may be scheduled on any dedicated node. List the sites (`sites: [NY4, LD4]`): each gets its own workload pinned by the `hftc.io/site` node label."),
    ("HFT0622", "pipeline memory target above the deployment's memory", "The pipeline's `targets.memory_mb` exceeds the memory the deployment gives the engine."),
    ("HFT0623", "pod not Guaranteed QoS", "Every container of the engine pod must have CPU and memory limits equal to its requests (and so for huge pages and devices). Otherwise the pod is Burstable and the static CPU manager does not give it exclusive CPUs."),
    ("HFT0624", "CPU count not a whole number", "The static CPU manager pins only containers asking for an integer number of CPUs; fractional CPUs share the pool with every other pod."),
    ("HFT0625", "deployment without cloud settings", "The terraform target generates a module only for deployments with a `cloud:` section; this deployment has none and is left out."),
    ("HFT0626", "zone outside the region", "`cloud.zone` must be an availability zone of `cloud.region` (the region name followed by a letter, e.g. `us-east-1a`)."),
    ("HFT0627", "placement group is not `cluster`", "`spread` and `partition` placement groups put instances on different racks, adding switch hops between them. Latency-critical deployments use `cluster`."),
    ("HFT0628", "ENA Express enabled", "ENA Express (SRD) improves single-flow bandwidth and tail latency under load, but adds per-packet latency at the low packet rates of order traffic. Enable it only when measured to help."),
    ("HFT0630", "unknown metric in alert", "The alert expression names something that is neither a friendly name (latency_p50_ns, latency_p99_ns, latency_p999_ns, message_rate, order_rate, reject_rate, messages_total, orders_total, orders_rejected_total, position, pnl), an `hftc_`/`hftc:` metric or recording rule, nor a PromQL keyword. It is passed to Prometheus as written and will likely match no series."),
    ("HFT0631", "no unit test for alert", "The prometheus target writes a promtool unit test for alerts of the forms `<name> <op> <number>` and `rate|increase(<counter>[<window>]) <op> <number>`. This alert has another form; it is still emitted, but untested."),
    ("HFT0640", "feed input fits no market data role", "The C++ feed handler turns input messages into book deltas, trades and snapshots by their fields: a book delta has `side`, `price` and `qty`; a trade is a message whose name contains `Trade` with `price`, `qty` and `aggressor` (or `side`); a snapshot has a repeating group of `side`, `price` and `qty`. Prices and quantities must be decimals and `side` an enum with buy/sell (or bid/ask) values; `instrument`, `seq` and a timestamp with unit `ns` are optional. This input fits none of them, so the generated handler ignores it: rename its fields, or handle it in your own dispatcher handler."),
    ("HFT0641", "order book and strategy both threaded", "The order book always runs on the strategy's thread (the strategy reads the book directly, and a book is never shared between threads), so a thread on the book and a thread on the strategy would be the same boundary. Keep only one of the two in `threads`."),
    ("HFT0642", "gateway message cannot carry an order", "The C++ order gateway fills the output message from an order by field role: `side` (an enum with buy/sell values), `price` and `qty` (decimals) are required; `client_order_id`, `instrument` and a timestamp (`ts_sent`, `ts` or a field with unit `ns`) are filled when present. Add the missing fields to the gateway's output message."),
    ("HFT0643", "pipeline not generated", "The C++ target generates a pipeline only when its stages include a feed handler, an order book, a strategy, a risk gate and an order gateway. The codecs are still generated; wire the stages yourself with hft::trading::Pipeline."),
    ("HFT0644", "decimal cannot hold the tick or lot", "Prices and quantities convert exactly between the wire decimals and the order book's integer ticks and lots. The decimal type of the gateway's price (or quantity) has a coarser exponent than the book's tick (or lot), so some orders could not be encoded exactly. Use a finer decimal exponent or a coarser tick."),
    ("HFT0645", "strategy without quote rules", "The generated strategy adapter turns `quote.bid`/`quote.ask` rules into orders. This strategy has no inline quote rules (it uses a template or only entry/exit rules), so no C++ pipeline is generated for it: plug a hand-written strategy into hft::trading::Pipeline."),
    ("HFT0701", "field added out of order", "A field added in a later schema version must come after every field of earlier versions, so older readers still find the old fields at their offsets (append-only evolution, as in SBE)."),
    ("HFT0702", "since_version earlier than its container", "A field cannot exist in a version before its message or group does."),
    ("HFT0703", "deprecated field without since_version history", "`deprecated:` names the schema version in which a field stopped being used; it must be after the version that introduced it and not newer than the schema."),
    ("HFT0801", "unknown build target", "`--target` names a backend. The list of known ones is shown; out-of-tree backends register through the `hftc.backends` entry-point group."),
    ("HFT0802", "backend failed", "A backend raised an error while generating code. This is a bug in the backend; the message says which one."),
    ("HFT0803", "backend does not support this IR version", "The backend declares the IR versions it understands; this compiler produces a different one."),
    ("HFT0804", "output is stale", "`hftc build --check` found that the files on disk differ from what the schema generates now. Run `hftc build` to refresh them."),
    ("HFT0805", "cannot write output", "The output directory could not be written. The previous output is left as it was."),
    ("HFT0806", "formatter not available", "Generated code is formatted before it is written so output is byte-identical everywhere. The formatter this target needs (clang-format, rustfmt or ruff) was not found on PATH; install it (see the README) and build again."),
    ("HFT0807", "formatter failed", "The formatter rejected a generated file. This is a bug in the backend that produced it; the formatter's message is shown."),
    ("HFT0820", "name clash in generated Python", "A field, group or var-data name would shadow an attribute the Python backend generates (for example encoded_length, <field>_raw, encode_<group>, header_*). Rename it."),
    ("HFT0901", "unused type", "A type is defined but no message, group or other type uses it."),
    ("HFT0902", "component not used by any pipeline", "A component is defined but no pipeline runs it."),
    ("HFT0903", "name does not follow conventions", "Types and messages are PascalCase; fields, components, pipelines and strategies are snake_case. The generators map names to each language's conventions, and consistent input makes that mapping predictable."),
    ("HFT0904", "pipeline without latency target", "A pipeline has stage budgets but no `targets.latency_p99_ns`, so they are never checked."),
]

CODES: dict[str, CodeInfo] = {c: CodeInfo(c, t, e) for c, t, e in _CODES}


def explain(code: str) -> CodeInfo | None:
    return CODES.get(code.strip().upper())
