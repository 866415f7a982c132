"""Lower validated surface documents into the IR.

Lowering copies what the user wrote into IR records with spans; it does not
judge. Names that do not resolve are kept as written and reported by the
resolve pass, so every problem is reported once, by the pass that owns it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from hftc.diagnostics.model import Diagnostic, Span, did_you_mean, error, warning
from hftc.frontend.names import IDENTIFIER, RESERVED
from hftc.frontend.templates import TemplateLibrary, instantiate, lower_param, shipped_names
from hftc.ir import model as ir
from hftc.ir.engine_contract import endpoint_problem
from hftc.loader.yaml_nodes import LoadedYaml
from hftc.schema import document as surf
from hftc.schema.messages import FieldSpec, GroupSpec, VarDataSpec
from hftc.schema.types import ArrayType, CharType, CompositeType, DecimalType, EnumType, SetType

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float | None:
    match = _DURATION.match(text)
    if not match:
        return None
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def exact_decimal(value: Any) -> str | None:
    """A tick or lot as an exact decimal string (floats use their shortest repr)."""
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        return None
    if not dec.is_finite() or dec <= 0:
        return None
    text = format(dec.normalize(), "f")
    return text


class Lowerer:
    """Collects IR records from one or more (surface model, YAML) pairs."""

    def __init__(self, templates: TemplateLibrary | None = None) -> None:
        self._templates = templates
        self.diagnostics: list[Diagnostic] = []
        self.types: list[ir.TypeDef] = []
        self.messages: list[ir.Message] = []
        self.components: list[ir.Component] = []
        self.pipelines: list[ir.Pipeline] = []
        self.strategies: list[ir.Strategy] = []
        self.deployments: list[ir.Deployment] = []
        self.monitoring: ir.Monitoring | None = None
        self.wires: list[ir.WireFormat] = []  # one per schema file, imports first, the root last
        self._defined: dict[tuple[str, str], Span | None] = {}
        self._type_kinds: dict[str, str] = {}
        self._constants: list[ir.Constant] = []  # collected by _fields for _fields_and_constants

    # -- helpers -----------------------------------------------------------
    def _name(self, doc: LoadedYaml, path: tuple, name: str, section: str, escaped: bool = False) -> bool:
        """Check a definition's name; record it; report duplicates across files.

        `escaped`: the name only becomes codec code, whose backends escape keywords in their own
        language (C++ `new_`, Rust `r#type`, Python `lambda_`); other names must not be keywords.
        """
        span = doc.span_of(path, key=True)
        if not IDENTIFIER.match(name):
            self.diagnostics.append(error("HFT0106", f"invalid name `{name}`", span, label="not an identifier",
                                          help="use a letter followed by letters, digits or underscores"))
            return False
        if name in RESERVED and not escaped:
            self.diagnostics.append(error("HFT0107", f"`{name}` is a reserved word in a generated language", span,
                                          label="reserved here",
                                          help=f"rename it, e.g. `{name}_`: message, field and type names may be "
                                               "keywords, engine names may not"))
            return False
        if section:
            key = (section, name)
            if key in self._defined:
                from hftc.diagnostics.model import Label

                first = self._defined[key]
                secondary = (Label(first, "first defined here"),) if first else ()
                self.diagnostics.append(error("HFT0203", f"`{name}` is defined twice in {section}", span,
                                              label="defined again here", secondary=secondary))
                return False
            self._defined[key] = span
        return True

    @staticmethod
    def _expr(doc: LoadedYaml, path: tuple, value: Any) -> ir.ExprSource:
        """Keep expression text with the span of its first character in the file."""
        span = doc.span_of(path)
        style = doc.styles.get(tuple(path), "")
        text = value if isinstance(value, str) else ("true" if value is True else "false" if value is False else repr(value))
        if span is not None and style in ("'", '"'):
            span = ir.Span(span.file, span.line, span.col + 1, span.line, span.col + 1 + len(text))
        elif span is not None and style in ("|", ">"):
            span = ir.Span(span.file, span.line + 1, span.col, span.end_line, span.end_col)
        return ir.ExprSource(text, span)

    # -- schema documents ---------------------------------------------------
    def add_schema(self, model: surf.SchemaDocument, doc: LoadedYaml) -> None:
        for name, t in model.types.items():
            if self._name(doc, ("types", name), name, "types", escaped=True):
                self._type_kinds[name] = self._type_kind(t)
        for name, t in model.types.items():
            if IDENTIFIER.match(name):
                self.types.append(self._typedef(doc, ("types", name), name, t))
        for name, m in model.messages.items():
            if self._name(doc, ("messages", name), name, "messages", escaped=True):
                self.messages.append(self._message(doc, ("messages", name), name, m))
        for name, c in model.components.items():
            if self._name(doc, ("components", name), name, "components"):
                self.components.append(self._component(doc, ("components", name), name, c))
        for name, p in model.pipelines.items():
            if self._name(doc, ("pipelines", name), name, "pipelines"):
                self.pipelines.append(self._pipeline(doc, ("pipelines", name), name, p))
        for name, s in model.strategies.items():
            if self._name(doc, ("strategies", name), name, "strategies"):
                self.strategies.append(self._strategy(doc, ("strategies", name), name, s))
        for name, d in model.deployments.items():
            if self._name(doc, ("deployments", name), name, "deployments"):
                self.deployments.append(self._deployment(doc, ("deployments", name), name, d))
        if model.monitoring is not None:
            self.monitoring = self._monitoring(doc, ("monitoring",), model.monitoring)
        self.wires.append(self._wire(doc, model))

    @staticmethod
    def _wire(doc: LoadedYaml, model: surf.SchemaDocument) -> ir.WireFormat:
        enc = model.encoding
        span = doc.span_of(("encoding",), key=True) if enc is not None else None
        if span is None and model.byte_order != "little":
            span = doc.span_of(("byte_order",), key=True)
        if enc is None:
            return ir.WireFormat(byte_order=model.byte_order, span=span)
        h, g = enc.header, enc.group_size
        return ir.WireFormat(byte_order=model.byte_order, block_length=h.block_length, template_id=h.template_id,
                             schema_id=h.schema_id, version=h.version, group_block_length=g.block_length,
                             group_count=g.count, var_data_length=enc.var_data_length, span=span)

    def root_wire(self) -> ir.WireFormat:
        """The root schema's framing; an import framed differently is an error (one wire per schema)."""
        if not self.wires:
            return ir.WireFormat()
        root = self.wires[-1]
        for other in self.wires[:-1]:
            if other.framing() != root.framing():
                self.diagnostics.append(error(
                    "HFT0315", "an imported schema frames messages differently from the schema importing it",
                    other.span or root.span, label="this `byte_order`/`encoding` differs",
                    help="give every file of a schema the same `byte_order` and `encoding`, or leave them out of the imports"))
        return root

    @staticmethod
    def _type_kind(t: Any) -> str:
        for cls, kind in ((DecimalType, "decimal"), (EnumType, "enum"), (SetType, "set"), (CharType, "char"),
                          (CompositeType, "composite"), (ArrayType, "array")):
            if isinstance(t, cls):
                return kind
        raise AssertionError(f"unhandled type model {type(t).__name__}")

    def kind_of(self, type_name: str) -> str:
        if type_name in ir.PRIMITIVES:
            return "primitive"
        return self._type_kinds.get(type_name, "unresolved")

    def _typedef(self, doc: LoadedYaml, path: tuple, name: str, t: Any) -> ir.TypeDef:
        span = doc.span_of(path, key=True)
        kind = self._type_kind(t)
        if isinstance(t, DecimalType):
            return ir.TypeDef(name, kind, encoding=t.decimal, exponent=t.exponent, description=t.description, span=span)
        if isinstance(t, EnumType):
            values = []
            for k, v in t.values.items():
                vspan = doc.span_of(path + ("values", k))
                self._name(doc, path + ("values", k), k, "", escaped=True)
                wire = self._enum_value(v, t.enum == "char", vspan, k)
                if wire is not None:
                    values.append(ir.EnumValue(k, wire, vspan))
            if t.enum == "char":
                return ir.TypeDef(name, kind, encoding="uint8", values=tuple(values), description=t.description,
                                  span=span, char_values=True)
            return ir.TypeDef(name, kind, encoding=t.enum, values=tuple(values), description=t.description, span=span)
        if isinstance(t, SetType):
            choices = tuple(ir.Choice(k, v, doc.span_of(path + ("choices", k))) for k, v in t.choices.items())
            for k in t.choices:
                self._name(doc, path + ("choices", k), k, "", escaped=True)
            return ir.TypeDef(name, kind, encoding=t.set, choices=choices, description=t.description, span=span)
        if isinstance(t, CharType):
            return ir.TypeDef(name, kind, encoding="char", length=t.char, description=t.description, span=span)
        if isinstance(t, CompositeType):
            fields = []
            for fname, ftype in t.composite.items():
                if self._name(doc, path + ("composite", fname), fname, "", escaped=True):
                    fields.append(ir.Field(fname, ftype, self.kind_of(ftype), span=doc.span_of(path + ("composite", fname))))
            return ir.TypeDef(name, kind, fields=tuple(fields), description=t.description, span=span)
        assert isinstance(t, ArrayType)
        return ir.TypeDef(name, kind, element=t.array, length=t.length, description=t.description, span=span)

    def _enum_value(self, v: int | str, is_char: bool, span: Any, name: str) -> int | None:
        """The wire value of an enum value: an integer, or for `enum: char` one Latin-1 character."""
        if isinstance(v, int) and not isinstance(v, bool) and not is_char:
            return v
        if is_char and isinstance(v, str) and len(v) == 1 and 0 < ord(v) < 256:
            return ord(v)
        if is_char:
            self.diagnostics.append(error("HFT0303", f"value of `{name}` must be one character, got {v!r}", span,
                                          label="not a single Latin-1 character",
                                          help=f'write one character in quotes, e.g. "{str(v)[:1] or "0"}"'))
        else:
            self.diagnostics.append(error("HFT0303", f"value of `{name}` must be an integer, got {v!r}", span,
                                          label="not an integer",
                                          help="integer enums take integers; use `enum: char` for character values"))
        return None

    def _inline_type(self, doc: LoadedYaml, path: tuple, t: Any) -> str:
        """Name and lower a type defined in place of a field's type: the owner's and the field's
        names in CamelCase (`Quote.price` -> `QuotePrice`), made unique."""
        parts = [str(p) for p in path if p not in ("messages", "groups", "fields", "type")]
        base = "".join(p[:1].upper() + p[1:] for part in parts for p in re.split(r"_+", part) if p)
        name, n = base, 2
        while name in self._type_kinds or name in ir.PRIMITIVES:
            name, n = f"{base}{n}", n + 1
        self._type_kinds[name] = self._type_kind(t)
        self.types.append(self._typedef(doc, path, name, t))
        return name

    def _fields_and_constants(self, doc: LoadedYaml, path: tuple,
                              fields: dict) -> tuple[tuple[ir.Field, ...], tuple[ir.Constant, ...]]:
        """The wire fields, and the constant fields (never on the wire) apart."""
        outer, self._constants = self._constants, []
        try:
            return self._fields(doc, path, fields), tuple(self._constants)
        finally:
            self._constants = outer

    def _fields(self, doc: LoadedYaml, path: tuple, fields: dict) -> tuple[ir.Field, ...]:
        out = []
        for fname, spec in fields.items():
            fpath = path + (fname,)
            if not self._name(doc, fpath, fname, "", escaped=True):
                continue
            if isinstance(spec, str):
                out.append(ir.Field(fname, spec, self.kind_of(spec), span=doc.span_of(fpath)))
                continue
            if not isinstance(spec, FieldSpec):  # an inline type definition
                tname = self._inline_type(doc, fpath, spec)
                out.append(ir.Field(fname, tname, self.kind_of(tname), span=doc.span_of(fpath, key=True)))
                continue
            if not isinstance(spec.type, str):
                spec = spec.model_copy(update={"type": self._inline_type(doc, fpath + ("type",), spec.type)})
            if spec.constant is not None:
                self._constants.append(ir.Constant(fname, spec.type, self.kind_of(spec.type), spec.constant,
                                                   description=spec.description, span=doc.span_of(fpath, key=True)))
                continue
            out.append(ir.Field(
                fname, spec.type, self.kind_of(spec.type),
                since_version=spec.since_version or 0, deprecated=spec.deprecated,
                optional=spec.optional, null_value=spec.null_value, unit=spec.unit,
                offset=spec.offset if spec.offset is not None else -1,
                description=spec.description, span=doc.span_of(fpath + ("type",)),
            ))
        return tuple(out)

    def _data(self, doc: LoadedYaml, path: tuple, items: list) -> tuple[ir.VarData, ...]:
        out = []
        for i, item in enumerate(items):
            span = doc.span_of(path + (i,))
            if isinstance(item, str):
                if self._name(doc, path + (i,), item, "", escaped=True):
                    out.append(ir.VarData(item, span=span))
            else:
                assert isinstance(item, VarDataSpec)
                if self._name(doc, path + (i, "name"), item.name, "", escaped=True):
                    out.append(ir.VarData(item.name, item.encoding, item.since_version or 0, item.description, span))
        return tuple(out)

    def _group(self, doc: LoadedYaml, path: tuple, name: str, g: GroupSpec, parent_since: int) -> ir.Group:
        since = g.since_version if g.since_version is not None else parent_since
        groups = tuple(
            self._group(doc, path + ("groups", n), n, sub, since)
            for n, sub in g.groups.items() if self._name(doc, path + ("groups", n), n, "", escaped=True)
        )
        fields, constants = self._fields_and_constants(doc, path + ("fields",), g.fields)
        return ir.Group(name, fields=self._inherit(fields, since),
                        groups=groups, data=self._inherit_data(self._data(doc, path + ("data",), g.data), since),
                        since_version=since, description=g.description, span=doc.span_of(path, key=True),
                        constants=constants)

    @staticmethod
    def _inherit(fields: tuple[ir.Field, ...], since: int) -> tuple[ir.Field, ...]:
        if not since:  # nothing to inherit: most messages
            return fields
        return tuple(f if f.since_version else ir.evolve(f, since_version=since) for f in fields)

    @staticmethod
    def _inherit_data(data: tuple[ir.VarData, ...], since: int) -> tuple[ir.VarData, ...]:
        if not since:
            return data
        return tuple(d if d.since_version else ir.evolve(d, since_version=since) for d in data)

    def _message(self, doc: LoadedYaml, path: tuple, name: str, m: surf.MessageSpec) -> ir.Message:
        since = m.since_version or 0
        groups = tuple(
            self._group(doc, path + ("groups", n), n, g, since)
            for n, g in m.groups.items() if self._name(doc, path + ("groups", n), n, "", escaped=True)
        )
        fields, constants = self._fields_and_constants(doc, path + ("fields",), m.fields)
        return ir.Message(name, m.id, fields=self._inherit(fields, since), constants=constants,
                          groups=groups, data=self._inherit_data(self._data(doc, path + ("data",), m.data), since),
                          since_version=since, deprecated=m.deprecated, description=m.description,
                          span=doc.span_of(path, key=True), role=m.role, role_declared=m.role is not None,
                          field_roles=tuple(m.fields_map.items()),
                          role_span=doc.span_of(path + ("role",)) if m.role is not None else None,
                          fields_map_spans=tuple((r, doc.span_of(path + ("fields_map", r))) for r in m.fields_map))

    def _component(self, doc: LoadedYaml, path: tuple, name: str, c: Any) -> ir.Component:
        span = doc.span_of(path, key=True)
        common = dict(budget_ns=c.budget_ns, description=c.description, span=span,
                      budget_span=doc.span_of(path + ("budget_ns",)) if c.budget_ns is not None else None)
        if c.kind == "feed_handler":
            return ir.Component(name, c.kind, inputs=tuple(c.input),
                                input_spans=tuple(doc.span_of(path + ("input", i)) for i in range(len(c.input))),
                                instruments=tuple(c.instruments),
                                instruments_span=doc.span_of(path + ("instruments",)) if c.instruments else None,
                                symbol_spans=tuple(doc.span_of(path + ("instruments", i))
                                                   for i in range(len(c.instruments))),
                                **common)
        if c.kind == "order_book":
            tick = exact_decimal(c.tick)
            lot = exact_decimal(c.lot)
            for key, value in (("tick", tick), ("lot", lot)):
                if value is None:
                    self.diagnostics.append(error("HFT0105", f"`{key}` must be a positive decimal", doc.span_of(path + (key,)),
                                                  label="not a positive decimal", help='write it as a string, e.g. "0.00001"'))
            return ir.Component(name, c.kind, book_model=c.model, depth=c.depth, tick=tick, lot=lot,
                                max_orders=c.max_orders, **common)
        if c.kind == "strategy":
            return ir.Component(name, c.kind, strategy=c.strategy, strategy_span=doc.span_of(path + ("strategy",)),
                                **common)
        if c.kind == "risk_gate":
            lim = c.limits
            spans = tuple((k, sp) for k in sorted(lim.model_fields_set)
                          if (sp := doc.span_of(path + ("limits", k))) is not None)
            return ir.Component(name, c.kind, limits=ir.RiskLimits(lim.max_position, lim.max_order_qty,
                                lim.max_orders_per_second, float(lim.price_band_bps), lim.max_notional,
                                lim.kill_switch, lim.max_open_notional, lim.max_open_orders),
                                limit_spans=spans, **common)
        if c.kind == "order_gateway":
            return ir.Component(name, c.kind, output=c.output, output_span=doc.span_of(path + ("output",)),
                                credentials=self._credentials(doc, path + ("credentials",), c.credentials),
                                credentials_span=doc.span_of(path + ("credentials",)) if c.credentials else None,
                                heartbeat_ms=c.heartbeat_ms, **common)
        return ir.Component(name, c.kind, language=c.language, features=tuple(c.features), **common)

    def _credentials(self, doc: LoadedYaml, path: tuple, ref: Any) -> Optional[tuple[str, str]]:
        """("env", NAME) or ("file", PATH): exactly one, and a path that can be opened (HFT0651)."""
        if ref is None:
            return None
        given = [(k, v) for k, v in (("env", ref.env), ("file", ref.file)) if v is not None]
        if len(given) != 1:
            self.diagnostics.append(error(
                "HFT0651", "`credentials` must name exactly one of `env` and `file`", doc.span_of(path),
                label="both given" if given else "neither given",
                help="e.g. `credentials: {env: VENUE_API_KEY}` or `credentials: {file: /var/run/secrets/venue/key}`"))
            return None
        key, value = given[0]
        if key == "file" and (value != value.strip() or any(ch in value for ch in "\0\n\r")):
            self.diagnostics.append(error(
                "HFT0651", "`credentials.file` must be a file path (no NUL, line break or surrounding blanks)",
                doc.span_of(path + ("file",)), label="not a path",
                help="name the file holding the secret; the secret itself never goes in the schema"))
            return None
        return key, value

    def _pipeline(self, doc: LoadedYaml, path: tuple, name: str, p: surf.PipelineSpec) -> ir.Pipeline:
        threads = tuple(ir.ThreadAssignment(stage, t.cpu, doc.span_of(path + ("threads", stage), key=True))
                        for stage, t in p.threads.items())
        stage_spans = tuple(doc.span_of(path + ("stages", i)) for i in range(len(p.stages)))
        target_span = doc.span_of(path + ("targets", "latency_p99_ns")) if p.targets.latency_p99_ns else None
        return ir.Pipeline(name, tuple(p.stages), threads, p.queue.kind, p.queue.capacity, tuple(p.features),
                           p.targets.latency_p99_ns, p.targets.throughput_msgs_per_s, p.targets.memory_mb,
                           p.description, doc.span_of(path, key=True), stage_spans, target_span)

    @property
    def templates(self) -> TemplateLibrary:
        if self._templates is None:
            self._templates = TemplateLibrary()
        return self._templates

    def _params(self, doc: LoadedYaml, path: tuple, specs: dict, template: Any, template_name: str | None
                ) -> tuple[ir.Param, ...]:
        """Parameters as written; those of the template (`template`, or None) may leave keys out."""
        base = {p.name: p for p in template.strategy.params} if template is not None else {}
        out = []
        for k, p in specs.items():
            if self._name(doc, path + (k,), k, ""):
                param = lower_param(k, p, base.get(k), template_name, doc.span_of(path + (k,), key=True),
                                    doc.span_of(path + (k, "type")), self.diagnostics)
                if param is not None:
                    out.append(param)
        return tuple(out)

    def _instantiate(self, doc: LoadedYaml, path: tuple, strategy: ir.Strategy, template: Any,
                     count: int) -> ir.Strategy:
        spans = tuple(doc.span_of(path + ("instruments", i)) for i in range(count))
        strategy, diags = instantiate(template, strategy, instruments_span=doc.span_of(path + ("instruments",)),
                                      instrument_spans=spans)
        self.diagnostics.extend(diags)
        return strategy

    def _strategy(self, doc: LoadedYaml, path: tuple, name: str, s: surf.StrategySpec) -> ir.Strategy:
        # An unknown template is reported by the resolve pass; the strategy keeps only what it says.
        template = self.templates.get(s.template) if s.template else None
        params = self._params(doc, path + ("params",), s.params, template, s.template)
        lets = tuple(ir.NamedExpr(k, self._expr(doc, path + ("let", k), v), doc.span_of(path + ("let", k), key=True))
                     for k, v in s.let.items() if self._name(doc, path + ("let", k), k, ""))
        signals = tuple(ir.NamedExpr(k, self._expr(doc, path + ("signals", k), v),
                                     doc.span_of(path + ("signals", k), key=True))
                        for k, v in s.signals.items() if self._name(doc, path + ("signals", k), k, ""))
        q = s.quote

        def side(side_name: str, key: str) -> ir.ExprSource | None:
            part = getattr(q, side_name) if q else None
            return self._expr(doc, path + ("quote", side_name, key), getattr(part, key)) if part else None

        def opt(key: tuple, value: Any) -> ir.ExprSource | None:
            return None if value is None else self._expr(doc, path + key, value)

        strategy = ir.Strategy(
            name, s.template, s.description, tuple(s.instruments), params, lets, signals,
            side("bid", "price"), side("bid", "qty"), side("ask", "price"), side("ask", "qty"),
            opt(("when",), s.when),
            opt(("entry", "long"), s.entry.long if s.entry else None),
            opt(("entry", "short"), s.entry.short if s.entry else None),
            opt(("exit",), s.exit), opt(("size",), s.size),
            tuple(s.objectives.maximize), tuple(s.objectives.minimize),
            tuple(self._expr(doc, path + ("constraints", i), c) for i, c in enumerate(s.constraints)),
            doc.span_of(path, key=True),
        )
        if template is None:
            return strategy
        return self._instantiate(doc, path, strategy, template, len(s.instruments))

    def _deployment(self, doc: LoadedYaml, path: tuple, name: str, d: surf.DeploymentSpec) -> ir.Deployment:
        n = d.nodes
        k8s = d.kubernetes
        cloud = d.cloud
        return ir.Deployment(
            name, d.environment, d.pipeline, tuple(d.sites),
            ir.NodeSpec(n.cpu_cores, n.memory_gb, n.hugepages_1gi, n.sriov, n.realtime_kernel, n.isolated_cpus),
            d.latency_tolerance_ns,
            ir.KubernetesSpec(k8s.namespace, k8s.image, k8s.metrics_port, k8s.health_port, k8s.runtime_class,
                              k8s.sriov_resource, k8s.credentials_secret, k8s.optimizer_workers) if k8s else None,
            ir.CloudSpec(cloud.provider, cloud.region, cloud.zone or f"{cloud.region}a", cloud.instance_type,
                         cloud.placement, cloud.count, cloud.node_group, cloud.ena_express) if cloud else None,
            tuple(sorted(d.tags.items())), doc.span_of(path, key=True),
            venue_orders=self._endpoint(doc, path + ("venue", "orders"), d.venue.orders if d.venue else None, "tcp"),
            venue_md=self._endpoint(doc, path + ("venue", "md"), d.venue.md if d.venue else None, "udp"),
        )

    def _endpoint(self, doc: LoadedYaml, path: tuple, url: Optional[str], scheme: str) -> Optional[str]:
        """A venue endpoint as the engine parses it, or None (with HFT0620) when it would refuse it."""
        if url is None:
            return None
        problem = endpoint_problem(url, scheme)
        if problem is None:
            return url
        self.diagnostics.append(error("HFT0620", f"bad venue endpoint `{url}`: {problem}", doc.span_of(path),
                                      label="not an endpoint the engine takes",
                                      help="tcp://HOST:PORT for orders (a DNS name or IPv4 address), "
                                           "udp://ADDRESS:PORT for market data (an IPv4 address)"))
        return None

    def _monitoring(self, doc: LoadedYaml, path: tuple, m: surf.MonitoringSpec) -> ir.Monitoring:
        alerts = []
        for i, a in enumerate(m.alerts):
            seconds = parse_duration(a.for_)
            if seconds is None:
                self.diagnostics.append(error("HFT0601", f"invalid duration `{a.for_}`", doc.span_of(path + ("alerts", i, "for")),
                                              label="not a duration", help="write durations like 500ms, 5s, 2m or 1h"))
                seconds = 0.0
            alerts.append(ir.Alert(a.name, a.expr, seconds, a.for_.strip(), a.severity, tuple(sorted(a.labels.items())),
                                   tuple(sorted(a.annotations.items())), doc.span_of(path + ("alerts", i))))
        return ir.Monitoring(m.interval_ms, m.metrics_port, tuple(alerts))

    # -- the seed's document forms ----------------------------------------
    def add_component_document(self, model: surf.ComponentDocument, doc: LoadedYaml) -> str:
        """A component document becomes one custom component per module and a pipeline through them."""
        stages = []
        for i, module in enumerate(model.modules):
            if self._name(doc, ("modules", i, "name"), module.name, "components"):
                self.components.append(ir.Component(module.name, "custom", language=module.language,
                                                    features=tuple(module.features), description=model.description,
                                                    span=doc.span_of(("modules", i))))
                stages.append(module.name)
        perf = model.performance
        features = tuple(dict.fromkeys(f for m in model.modules for f in m.features))
        pipeline_name = model.name.replace("-", "_")
        self.pipelines.append(ir.Pipeline(
            pipeline_name, tuple(stages), (), "spsc", 4096, features, perf.latency_target_ns,
            perf.throughput_target_ops, perf.memory_limit_mb, model.description, doc.span_of(("name",)),
            tuple(doc.span_of(("modules", i)) for i in range(len(stages))),
            doc.span_of(("performance", "latency_target_ns")) if perf.latency_target_ns else None,
        ))
        return pipeline_name

    def add_strategy_template(self, model: surf.StrategyTemplateDocument, doc: LoadedYaml) -> str:
        """A strategy template document becomes one strategy of that template, with the template's rules."""
        name = model.name.replace("-", "_")
        template = self.templates.get(model.type)
        if template is None:
            shipped = shipped_names()
            self.diagnostics.append(warning(
                "HFT0532", f"no strategy template `{model.type}` is shipped: `{name}` has parameters but no rules",
                doc.span_of(("type",)), label="not a shipped template",
                help=did_you_mean(model.type, shipped) or "shipped templates: " + ", ".join(shipped)))
        params = self._params(doc, ("parameters",), model.parameters, template, model.type)
        maximize, minimize = [], []
        objectives = [model.objectives.primary]
        secondary = model.objectives.secondary
        objectives += [secondary] if isinstance(secondary, str) else list(secondary or [])
        for i, objective in enumerate(objectives):
            key = ("objectives", "primary") if i == 0 else ("objectives", "secondary")
            direction, _, metric = objective.partition("_")
            if direction not in ("maximize", "minimize") or not metric:
                self.diagnostics.append(error("HFT0504", f"unknown objective `{objective}`", doc.span_of(key),
                                              label="expected maximize_<metric> or minimize_<metric>",
                                              help="for example maximize_sharpe_ratio or minimize_max_drawdown"))
                continue
            (maximize if direction == "maximize" else minimize).append(metric)
        constraints = []
        for i, c in enumerate(model.objectives.constraints):
            cpath = ("objectives", "constraints", i)
            if isinstance(c, str):
                constraints.append(self._expr(doc, cpath, c))
            else:
                for key, bound in c.items():
                    constraints.append(ir.ExprSource(f"{key} <= {bound}", doc.span_of(cpath + (key,), key=True)))
        strategy = ir.Strategy(
            name, model.type, model.description, tuple(model.instruments), params,
            maximize=tuple(maximize), minimize=tuple(minimize), constraints=tuple(constraints),
            span=doc.span_of(("name",)),
        )
        if template is not None:
            strategy = self._instantiate(doc, (), strategy, template, len(model.instruments))
        self.strategies.append(strategy)
        return name
