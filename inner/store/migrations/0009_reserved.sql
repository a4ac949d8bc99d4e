-- Reserved: version 9 belongs to a change in flight on another branch.
-- pgdb refuses gaps in an owner's versions, so this placeholder holds the
-- number until that change lands; it is then deleted and the real 0009
-- takes its place (no release carries this file).
SELECT 1;
