"""gruponos-infra: the infrastructure layer for GrupoNOS Meltano pipelines."""
