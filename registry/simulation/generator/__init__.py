"""Synthetic school year 2026-2027: schools, population register, batches, a
schedule of operations, and the outcome the registry must reach.

    generate(seed, scale, out) -> dict

Deterministic per (seed, scale): one `random.Random(seed)`, draws in a fixed
order, no clock. Scales: `tiny` (first 3 BRIN in BRIN order, ~150 students),
`small` (first 30 BRIN, ~6,000), `national` (all 638 BRIN, ~950,000).

Rules chosen where contract.md leaves them open:

- BSNs come from a counter from 20000000 (check digit appended, bodies with
  check 10 skipped), so they are unique and never start with "10".
- Students live in the municipality of their vestiging (a PC4 of it plus two
  letters, never SA/SD/SS); `plaatsnaam` is the municipality's name.
- A vestiging's licences are every elementcode its students use (van
  2020-08-01, tot null), except the planted unlicensed codes (X121).
- Every planted case has its own student; such a student gets no other event
  (a year-end leaver may still be reported in the assurance exclusions).
- Identity: the limited set for students with a BSN the school knows; the
  extended set, without BSN, for 755/757 students and border students (whose
  `buitenlands_adres` carries the address and the Dutch address fields are null).
  A `W` record carries the old key data in `leerling` (so no 770) and nothing
  else of that student follows it.
- Each school delivers on its own weekday (school index mod 5) at its own
  instant; an end date is delivered on the first delivery day after it, so
  within 7 days (late deregistrations 8–30 days after). A move's new school
  delivers after the old school's U, so only planted double enrolments overlap
  on 1 October.
- Register outages: 4–5 August (August deliveries of some schools wait and are
  resolved by the retry that evening) and 19 December – 5 January (only the
  planted long waits are delivered, on 21 December; retried on 6 January: X132).
  A waiting record is judged as of its delivery (X131 compares its end date
  with the delivery's date) and recorded at the retry.
- The refused batch is a copy of a regular batch with `soort`
  "INSCHRIJVINGEN", delivered one second before the valid batch under the same
  batchnummer; the re-delivery is a byte-identical file of an earlier batch the
  next day. Their schedule lines carry `"expect": "refused"` / `"redelivery"`.
- An assurance operation always lists the school's accountant batchnummers
  (possibly `[]`); `exclusions` is present only for schools with exclusions.
- Schools that never declare completeness get no voorlopige foto; they still get
  the actuele foto on 1 June, assurance and definitieve foto.
- Batch files are named in submission order, `batches/0001.json` …, with more
  digits when there are more than 9,999 batches. Inside a file each melding
  sits on its own line.
"""

from registry.simulation.generator.core import generate

__all__ = ["generate"]
