"""Append-only ledgers: a row, once written, is never updated or deleted.

A correction is a new, reversing row with a reason and an author. The guard is in Python
(``save``/``delete``, queryset ``update``/``delete``); the database guards the sums with
constraints in each ledger's own model.
"""

from __future__ import annotations

from django.db import models


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: write a reversing entry instead")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} is append-only: write a reversing entry instead")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} is append-only: write a reversing entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} is append-only: write a reversing entry instead")
