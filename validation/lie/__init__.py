"""Validation of equivariant neural ODEs built from differential invariants (see :mod:`nntheory.numerics.lie`)."""

__all__: list[str] = []
