"""Audit journals: read, filter, export, reconcile and report on what a generated engine journaled."""
