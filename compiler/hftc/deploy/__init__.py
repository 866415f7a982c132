"""Deployment requests in plain words: read them into a `deployments:` entry, edit the schema, apply."""

from hftc.deploy.prompt import DeploymentConfig, IncompleteDeployment, Unrecognized

__all__ = ["DeploymentConfig", "IncompleteDeployment", "Unrecognized"]
