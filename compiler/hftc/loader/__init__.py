"""Read YAML into plain values while keeping the source span of every node."""

from hftc.loader.yaml_nodes import LoadedYaml, load_yaml_text

__all__ = ["LoadedYaml", "load_yaml_text"]
