-- The approval exemptions (issue 13, G1–G4) are cases of a third kind, `exemption`.
ALTER TABLE cases DROP CONSTRAINT cases_kind_check;
ALTER TABLE cases ADD CONSTRAINT cases_kind_check CHECK (kind IN ('off_label', 'helfo', 'exemption'));
