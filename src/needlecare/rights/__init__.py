"""The patient's rights over their record: a complete export, and erasure or anonymisation
where the clinical record-keeping rules allow it."""
