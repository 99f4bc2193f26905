"""The caseload a county keeps: how many people of each group it cares for (the columns of its upload)."""

CASELOAD_COUNTS = ("dibao_urban", "dibao_rural", "tekun_urban", "tekun_rural", "ill_disabled",
                   "elderly_alone", "orphans", "unsupported_children", "rough_sleepers")
