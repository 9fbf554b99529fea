"""Small built-in lists of plausible Dutch names, streets and places abroad.

The RESERVED_* surnames are used only by planted students who are looked up by
name (755, 757), so their name keys are unique in the population register.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _surname(entry: str) -> tuple[str | None, str]:
    prefix, _, name = entry.rpartition("|")
    return (prefix or None), name


SURNAMES: tuple[tuple[str | None, str], ...] = tuple(
    _surname(e)
    for e in _split(
        "de|Jong; Jansen; de|Vries; van den|Berg; van|Dijk; Bakker; Janssen; Visser;"
        "Smit; Meijer; de|Boer; Mulder; de|Groot; Bos; Vos; Peters; Hendriks;"
        "van|Leeuwen; Dekker; Brouwer; de|Wit; Dijkstra; Smits; de|Graaf; Schouten;"
        "Willems; van der|Meer; van der|Linden; Kok; Jacobs; de|Haan; Vermeulen;"
        "van den|Heuvel; van der|Veen; van den|Broek; de|Bruijn; de|Bruin;"
        "van der|Heijden; Schipper; van|Beek; Prins; Huisman; Kuipers; Postma;"
        "Wouters; van|Vliet; Hoekstra; Maas; van|Loon; ter|Horst; Koster; Verhoeven;"
        "Goossens; van|Wijk; Bosman; Kramer; Veenstra; Evers; van|Doorn; in 't|Veld;"
        "Yilmaz; El Amrani; Nguyen; Kaya; Öztürk; Boukhari; Pinas; Martina"
    )
)
RESERVED_FOUND = _split(
    "Abbenhuis; Blankesteijn; Craanen; Duijvestijn; Eijgenraam; Flokstra;"
    "Gortemaker; Harkema; IJzerman; Jonkergouw; Kloosterboer; Lammertink;"
    "Middelkoop; Nijenhuis; Oosterwijk; Pronk-Hazelaar; Raaijmakers; Sprenkels"
)
RESERVED_UNKNOWN = _split(
    "Papenborg; Quaedvlieg; Rozendaal; Scheffer-Bos; Terpstra-Kalma; Uiterwijk;"
    "Veldhuizen; Westerhof; Ypma; Zandbergen; Zwanikken; Oudshoorn; Nieuwstad;"
    "Lubbers-Dijk; Koopmans-Roos; Tjoa; Wijnaldum-Kroes; Heemskerk-Ali"
)
FIRST_M = _split(
    "Daan; Sem; Lucas; Levi; Finn; Milan; Jesse; Noah; Bram; Luuk; Thijs; Sven;"
    "Jayden; Ruben; Lars; Stijn; Mees; Tim; Julian; Thomas; Max; Jan; Pieter;"
    "Willem; Hendrik; Johannes; Adam; Mohammed; Gijs; Koen; Ömer; Rayan"
)
FIRST_V = _split(
    "Emma; Julia; Mila; Tess; Sophie; Zoë; Sara; Nora; Eva; Anna; Lotte; Fenna;"
    "Isa; Lisa; Noor; Fleur; Sanne; Roos; Femke; Evi; Lieke; Maria; Johanna;"
    "Elisabeth; Catharina; Yasmin; Amira; Lina; Saar; Jasmijn; Elif; Hiba"
)
STREETS = _split(
    "Dorpsstraat; Kerkstraat; Schoolstraat; Molenweg; Stationsweg; Hoofdstraat;"
    "Julianastraat; Beatrixlaan; Wilhelminastraat; Nieuwstraat; Parallelweg;"
    "Kastanjelaan; Eikenlaan; Lindenlaan; Irisstraat; Tulpstraat; Rozenstraat;"
    "Sportlaan; Marktplein; Havenstraat; Industrieweg; Prins Bernhardlaan;"
    "Emmastraat; Vondelstraat; Bilderdijkstraat; Spoorstraat; Oranjestraat;"
    "Meidoornstraat; Zuiderweg; Noorderweg"
)
SUFFIXES = ("A", "B", "bis", "1", "2")
# (landcode, place, postal code, street) of persons living across the border.
ABROAD: tuple[tuple[str, str, str, str], ...] = (
    ("9089", "Gronau", "48599", "Bahnhofstraße"),
    ("9089", "Kleve", "47533", "Hafenstraße"),
    ("9089", "Aachen", "52062", "Kirchweg"),
    ("9089", "Nordhorn", "48529", "Lindenallee"),
    ("9089", "Emmerich am Rhein", "46446", "Hauptstraße"),
    ("5010", "Turnhout", "2300", "Kerkstraat"),
    ("5010", "Lommel", "3920", "Stationsstraat"),
    ("5010", "Baarle-Hertog", "2387", "Molenstraat"),
    ("5010", "Maaseik", "3680", "Bosstraat"),
    ("5010", "Antwerpen", "2000", "Meir"),
)
COUNTRY = {"9089": "Duitsland", "5010": "België"}
LAS_PACKAGES = (
    ("ExampleLAS", "7.2"),
    ("Leerlingdossier", "2026.1"),
    ("SchoolAdm", "5.4"),
)
