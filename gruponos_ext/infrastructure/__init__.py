"""The infrastructure module of the seed README: the GrupoNOS container and its factories.

``from gruponos_ext.infrastructure import GruponosMeltanoContainer`` as in the seed.
"""

from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

__all__ = ["GruponosMeltanoContainer"]
