"""The Annuaire Santé in the lab: loading the ANS extractions (``load``), users and correspondents that
follow it (``follow``), the MSSanté address look-up (``lookup``), the scheduled reload (``schedule``), and
their CLI (``cli``) and HTTP operations (``routes``). See README.md."""
