"""Retention of health data (SGL.DOC.20, SGL.INS.57): CR-Bio archived at 5 years and destroyed at 20 after the
patient's last activity, identity-document copies encrypted at rest and deleted at 5 years."""
