"""Hungarian translation of the demo Joint Declaration.

Holds the Hungarian (hu) title and text of the declaration in `content.DOCUMENTS`, clause by
clause in the order of `content.DECLARATION_CLAUSES`: one (heading, text) pair per clause, with
heading None exactly where the source clause has none and the same paragraph and line structure
as the source text. The demo seeds it as a complete translation (drafting/demo/seed.py).
"""

from __future__ import annotations

DECLARATION_TITLE_HU: str = (
    "Az európai egészségügyi innovációs klaszterek közös nyilatkozata az európai egészségügyi adattérről"
)

DECLARATION_HU: list[tuple[str | None, str]] = [
    (
        "Preambulum",
        (
            "Mi, a Bulgáriából, Belgiumból, a Cseh Köztársaságból, Magyarországról, Portugáliából, "
            "Spanyolországból és Svédországból származó alulírott egészségügyi innovációs klaszterek – "
            "együttesen több mint 1400 egyetemet, kórházat, kutatóintézetet, gyógyszeripari és "
            "orvostechnikai vállalatot, valamint induló innovatív vállalkozást képviselve – a Baltic "
            "Health Network Secretariat koordinálásával elfogadjuk ezt a közös nyilatkozatot.\n\n"
            "Nyilatkozatunkat az Európai Unió Tanácsának 2020 második félévében hivatalban lévő német "
            "elnökségéhez – amely prioritásai közé emelte egy valódi európai egészségügyi adattér "
            "létrehozását és az egészségügyi adatok felhasználására vonatkozó magatartási kódex "
            "kidolgozását –, valamint az azt követő elnökségekhez intézzük."
        ),
    ),
    (
        "A nyilatkozat célja",
        (
            "E nyilatkozat a tagjaink által a 2020 tavaszán tartott konzultáció során jelzett bevált "
            "gyakorlatokra és szűk keresztmetszetekre épül. Meghatározza azokat a "
            "kötelezettségvállalásokat, amelyek teljesítésére az aláíró klaszterek maguk törekszenek, "
            "továbbá javaslatokat tesz olyan uniós szintű eszközökre, amelyek felszámolnák az általunk "
            "azonosított akadályokat."
        ),
    ),
    (
        None,
        (
            "Emlékeztetve arra, hogy a COVID-19-világjárvány megmutatta, mennyire függ Európa attól, hogy "
            "a népegészségügyi hatóságok, a kórházak és a kutatók között időben megvalósuljon a "
            "megbízható egészségügyi adatok cseréje, és milyen súlyos költségekkel járhat az ilyen "
            "adatcsere hiánya;"
        ),
    ),
    (
        None,
        (
            "Emlékeztetve a 2020. februári európai adatstratégiára, valamint a Bizottság arra irányuló "
            "szándékára, hogy közös európai adattereket hozzon létre, köztük egy bizalomra, "
            "interoperabilitásra és a hozzáférésre vonatkozó egyértelmű szabályokra épülő európai "
            "egészségügyi adatteret;"
        ),
    ),
    (
        None,
        (
            "Emlékeztetve az e-egészségügyi hálózatnak a határokon átnyúló e-receptek és "
            "betegösszefoglalók MyHealth@EU szolgáltatáson keresztül történő cseréje terén végzett "
            "munkájára, valamint az első tagállamok csatlakoztatásából levont tanulságokra;"
        ),
    ),
    (
        None,
        (
            "Megállapítva, hogy az általános adatvédelmi rendelet már most is jogalapot biztosít az "
            "egészségügyi adatok kutatási és népegészségügyi célú másodlagos felhasználásához, a benne "
            "foglalt eltérési lehetőségek tagállamonként különböző végrehajtása miatt azonban a kutatók "
            "és a vállalatok akár 27 különböző követelményrendszerrel is szembesülhetnek;"
        ),
    ),
    (
        None,
        (
            "Megállapítva, hogy az egészségügyi adatok a legtöbb tagállamban továbbra is szétaprózottan "
            "oszlanak meg a régiók, a kórházak, a nyilvántartások és a magánszolgáltatók között, és hogy "
            "ez a szétaprózottság – sokkal inkább, mint bármiféle adathiány – lassítja a kutatást és az "
            "innovációt;"
        ),
    ),
    (
        None,
        (
            "Megállapítva, hogy Európa digitális egészségügyi innovációinak jelentős részét kis- és "
            "középvállalkozások fejlesztik, ezek azonban gyakran nem rendelkeznek azzal a szabályozási "
            "szakértelemmel, azokkal a tesztkörnyezetekkel és azzal a korai szakaszbeli finanszírozással, "
            "amelyek ahhoz szükségesek, hogy megoldásaik eljussanak a betegekhez;"
        ),
    ),
    (
        None,
        (
            "Tekintettel arra, hogy a polgárok bizalma minden egészségügyi adattér előfeltétele, és hogy "
            "ez a bizalom azon múlik, mennyire átlátható, hogy ki, milyen célból és a társadalom számára "
            "milyen haszonnal használja fel az adatokat;"
        ),
    ),
    (
        None,
        (
            "Tekintettel arra, hogy az orvostechnikai eszközökről szóló (EU) 2017/745 rendeletre és az in "
            "vitro diagnosztikai orvostechnikai eszközökről szóló (EU) 2017/746 rendeletre való áttérés – "
            "a bejelentett szervezetek korlátozott kapacitásával párosulva – azzal a kockázattal jár, "
            "hogy késlelteti a biztonságos és hatékony digitális megoldások piacra lépését;"
        ),
    ),
    (
        None,
        (
            "Tekintettel arra, hogy a klaszterek – mint a tudományos élet, az egészségügyi szolgáltatók, "
            "az ipar és a hatóságok közötti semleges közvetítők – kiváló helyzetben vannak ahhoz, hogy a "
            "bevált gyakorlatokat kipróbálják, nagyobb léptékben alkalmazzák és a határokon átnyúlóan "
            "elterjesszék;"
        ),
    ),
    (
        None,
        (
            "Ezért kötelezettséget vállalunk az alábbi intézkedésekre, és felhívjuk a Tanácsot, az "
            "Európai Bizottságot és a tagállamokat, hogy támogassák azokat."
        ),
    ),
    (
        "Kutatás — A kutatási adatokhoz való határokon átnyúló hozzáférés",
        (
            "Arra törekszünk, hogy a határokon átnyúló kutatási projektekben egységes és kiszámítható "
            "eljárás vonatkozzon az egészségügyi adatokhoz való hozzáférésre, hogy például egy "
            "vírusfertőzés lefolyását több országban vizsgáló konzorciumnak csak egyszer kelljen kérelmet "
            "benyújtania. Szorgalmazzuk olyan nemzeti egészségügyiadat-hozzáférési szervek hálózatának "
            "létrehozását, amelyek kölcsönösen elismerik egymás engedélyeit, és célunk, hogy 2027-ig a "
            "tagjaink által vezetett, több országra kiterjedő kutatási projektek legalább 40%-a ilyen "
            "közös engedélyt használjon."
        ),
    ),
    (
        "Kutatás — FAIR-adatok és közös adatmodellek",
        (
            "Ösztönözni fogjuk tagjainkat arra, hogy a kutatási adatállományokat a FAIR-elveknek "
            "megfelelően megtalálhatóvá, hozzáférhetővé, interoperábilissá és újrafelhasználhatóvá "
            "tegyék, metaadataikat pedig egy közös katalógusban tegyék közzé. Ahol a rutinszerű "
            "betegellátás során keletkező adatokat megfigyeléses kutatásra használják fel, elő fogjuk "
            "mozdítani azok közös adatmodellre – például az OMOP-ra – történő leképezését, hogy ugyanazt "
            "az elemzést az adatok áthelyezése nélkül több országban is le lehessen futtatni.\n\n"
            "Célunk, hogy 2025-ig hálózatainkban legalább 60 kórház és nyilvántartás adatai közös "
            "adatmodellre legyenek leképezve."
        ),
    ),
    (
        "Kutatás — Föderált elemzés és megbízható kutatási környezetek",
        (
            "Támogatjuk, hogy az érzékeny egészségügyi adatok esetében a föderált elemzés legyen az "
            "alapértelmezett megközelítés: az algoritmus jut el az adatokhoz, és csak az összesített "
            "eredmények kerülnek ki az adatbirtokostól. Egyesítjük szakértelmünket a közös biztonsági és "
            "auditálási követelményeknek megfelelő megbízható kutatási környezetek terén, és javasoljuk, "
            "hogy az EU nyújtson társfinanszírozást egy, az ilyen környezetekre vonatkozó tanúsítási "
            "rendszerhez."
        ),
    ),
    (
        "Kutatás — Adataltruizmus és dinamikus hozzájárulás",
        (
            "Támogatjuk azokat a kezdeményezéseket, amelyek lehetővé teszik a polgárok számára, hogy "
            "egészségügyi adataikat közérdekű kutatás céljára rendelkezésre bocsássák, például "
            "adataltruista szervezeteken és olyan dinamikus hozzájárulási eszközökön keresztül, "
            "amelyekkel az egyének bármikor módosíthatják döntéseiket. Az ilyen rendszereknek önkéntesnek "
            "és átláthatónak kell lenniük, biztosítaniuk kell a könnyű kilépés lehetőségét, és "
            "tájékoztatniuk kellene a résztvevőket arról, hogy adataik mit tettek lehetővé."
        ),
    ),
    (
        "Kutatás — Infektológia és farmakológia",
        (
            "Javasoljuk, hogy az EU dolgozzon ki olyan állandó protokollokat, adatmegosztási "
            "megállapodásokat és etikai dokumentummintákat, amelyek egy új kórokozó megjelenésekor "
            "napokon belül alkalmazásba vehetők. Tagjaink hozzájárulnak a klinikai vizsgálati adatokra, a "
            "variánsok genomikai felügyeletére, valamint az oltóanyagok és gyógyszerek engedélyezés utáni "
            "biztonságossági nyomon követésére szolgáló közös platformokhoz."
        ),
    ),
    (
        "Betegellátás — Az intenzív ellátási kapacitások határokon átnyúló koordinálása",
        (
            "Szorgalmazzuk, hogy jöjjön létre az intenzív ellátási kapacitásokról egy legalább naponta "
            "frissített európai áttekintés, amely – a határ menti régiókkal kezdve – megmutatja a "
            "rendelkezésre álló intenzív osztályos ágyakat, lélegeztetőgépeket és szakszemélyzetet, és "
            "lehetővé teszi a kórházak számára, hogy megszervezzék a betegek határokon átnyúló "
            "áthelyezését. Klasztereink egy minimális közös adatkészlet révén segítenek a meglévő "
            "regionális irányítópultok ehhez való csatlakoztatásában, és támogatják a regionális "
            "hatóságokat abban, hogy az áthelyezésre és a költségtérítésre vonatkozó szabályokról még a "
            "következő válság előtt állapodjanak meg, ne pedig annak során."
        ),
    ),
    (
        "Betegellátás — Határokon átnyúló e-recept és betegösszefoglalók",
        (
            "Támogatjuk, hogy a határokon átnyúló e-recept, elektronikus gyógyszerkiadás és "
            "betegösszefoglaló szolgáltatásokat gyorsan kiterjesszék valamennyi tagállamra. 2025-ig "
            "legalább 20 tagállamnak kellene betegösszefoglalókat és e-recepteket cserélnie a MyHealth@EU "
            "szolgáltatáson keresztül, 2027-ig pedig a szolgáltatásoknak a laboratóriumi leletekre, az "
            "orvosi képekre és a kórházi zárójelentésekre is ki kellene terjedniük."
        ),
    ),
    (
        "Betegellátás — Interoperábilis egészségügyi nyilvántartások",
        (
            "Elő fogjuk mozdítani, hogy tagjaink kórházai és régiói valamennyi újonnan beszerzett "
            "egészségügyi informatikai rendszerükben nyílt, nemzetközileg elismert szabványokat "
            "alkalmazzanak, különösen az alábbiakat:\n\n"
            "- HL7 FHIR a klinikai információk rendszerek közötti cseréjéhez;\n"
            "- openEHR a hosszú távú, gyártófüggetlen klinikai adattárakhoz;\n"
            "- IHE integrációs profilok a dokumentummegosztáshoz és a képalkotáshoz;\n"
            "- SNOMED CT, LOINC és ICD a klinikai terminológiához és osztályozáshoz.\n\n"
            "Felhívjuk a Bizottságot, hogy építsen az elektronikus egészségügyi nyilvántartások európai "
            "csereformátumáról szóló ajánlására, és határozzon meg egyértelmű, kötelező erejű ütemtervet "
            "annak bevezetésére."
        ),
    ),
    (
        "Betegellátás — Az egészségügyi ellátmányok elosztása",
        (
            "Javasoljuk a kritikus gyógyszerek, az egyéni védőeszközök és a diagnosztikumok készleteinek "
            "közös, közel valós idejű áttekintését, amelyet a kórházak, a nagykereskedők és a gyártók "
            "táplálnak adatokkal, hogy az ellátási hiányokat előre lehessen látni, a készleteket pedig "
            "régiók és országok között át lehessen csoportosítani. Orvostechnikai és gyógyszeripari "
            "tagjaink készek arra, hogy egyértelmű titoktartási szabályok mellett adatokat bocsássanak "
            "rendelkezésre."
        ),
    ),
    (
        "Betegellátás — Telemedicina és az ellátás folyamatossága",
        (
            "Megosztjuk egymással a távkonzultáció, a távmonitorozás és az otthoni kórházi ellátás terén "
            "szerzett bevált gyakorlatokat, amelyek a lezárások idején is fenntartották az ellátást. "
            "Kérjük a tagállamokat, hogy tegyék állandóvá azokat az ideiglenes szabályokat, amelyek a "
            "világjárvány idején lehetővé tették a távellátást, amennyiben azok biztonságosnak "
            "bizonyultak, továbbá tegyék egyértelművé a határokon átnyúló távkonzultációra vonatkozó "
            "szabályokat a betegjogi irányelv alapján."
        ),
    ),
    (
        "Digitális megoldások — Korai előrejelző rendszerek az újabb fertőzéshullámok észlelésére",
        (
            "Támogatjuk az olyan korai előrejelző rendszereket, amelyek különböző forrásokat – például a "
            "szennyvízmonitoringot, a laboratóriumi jelentéseket, az alapellátásban végzett "
            "szindrómaalapú járványügyi felügyeletet és az anonimizált mobilitási adatokat – kombinálnak "
            "annak érdekében, hogy az újabb fertőzéshullámokat még azelőtt észleljék, hogy a kórházak "
            "megtelnének. Javasoljuk, hogy az ilyen rendszerekre vonatkozóan jöjjön létre egy uniós "
            "referencia-architektúra, hogy a regionális megoldások adatokkal táplálhassák a "
            "Betegségmegelőzési és Járványvédelmi Európai Központ által fenntartott közös európai "
            "helyzetképet."
        ),
    ),
    (
        "Digitális megoldások — Közelségalapú kontaktkövetés és népegészségügyi intézkedések",
        (
            "A kapcsolatok nyomon követésére vagy a fizikai távolságtartásra vonatkozó intézkedések "
            "betartásának ellenőrzésére szolgáló digitális eszközöknek önkéntesnek és időben "
            "korlátozottnak kell lenniük, és már a tervezésüknél fogva biztosítaniuk kell a magánszféra "
            "védelmét. Támogatjuk a nemzeti közelségalapú kontaktkövető alkalmazások közös európai "
            "átjárón keresztül megvalósuló interoperabilitását, és kizárólag olyan megoldásokat fogunk "
            "előmozdítani, amelyek decentralizált vagy összesített adatokra épülnek, és független "
            "értékelés tárgyát képezik."
        ),
    ),
    (
        "Digitális megoldások — Tesztlétesítmények és élő laboratóriumok",
        (
            "Klasztereink egyenlő feltételek mellett megnyitják tesztlétesítményeiket, élő "
            "laboratóriumaikat és kórházi innovációs egységeiket a többi részt vevő régió vállalatai "
            "előtt. Célunk, hogy 2023-ig legalább 50 tesztkörnyezetet tartalmazó közös katalógust "
            "kínáljunk, az adatvédelemre, az etikai jóváhagyásra és az értékelésre vonatkozó közös "
            "szabályokkal, hogy az egyik régióban validált megoldást egy másikban is gyorsan tesztelni "
            "lehessen."
        ),
    ),
    (
        "Digitális megoldások — Mesterséges intelligencia az egészségügyben",
        (
            "Elő fogjuk mozdítani a diagnózist, a triázst és az erőforrás-tervezést segítő mesterséges "
            "intelligencia kiváló minőségű, reprezentatív és jól dokumentált adatállományokon alapuló "
            "fejlesztését. Szorgalmazzuk európai referencia-adatállományok és tesztelési létesítmények "
            "létrehozását, amelyek lehetővé teszik, hogy az algoritmusokat alkalmazásba vételük előtt "
            "torzítás, robusztusság és klinikai haszon szempontjából függetlenül értékeljék."
        ),
    ),
    (
        "Digitális megoldások — Kiberbiztonság",
        (
            "Egy európai egészségügyi adattér csak annyira lehet megbízható, amennyire a leggyengébb "
            "kapcsolódási pontja. Segíteni fogjuk tagjainkat – különösen a kisebb kórházakat és a kkv-kat "
            "– az elismert biztonsági szabványok bevezetésében, és szorgalmazzuk, hogy az EU biztosítson "
            "célzott finanszírozást az egészségügyi szolgáltatók kiberbiztonságára, hiszen ezek a "
            "világjárvány idején ismételten zsarolóvírus-támadások célpontjaivá váltak."
        ),
    ),
    (
        "A digitális megoldások gyorsított jóváhagyása — Európai gyorsított eljárás",
        (
            "Javasoljuk egy európai gyorsított eljárás bevezetését az alacsony kockázatú digitális "
            "egészségügyi alkalmazások számára, azon nemzeti rendszerek mintájára, amelyek ideiglenes "
            "költségtérítést biztosítanak, miközben a hasznosságra vonatkozó bizonyítékokat a rutinszerű "
            "betegellátás során gyűjtik. Egy ilyen eljárás keretében:\n\n"
            "(a) a CE-jelöléssel ellátott alkalmazás gyártója egyetlen dokumentációt nyújtana be a "
            "biztonságosságról, az adatvédelemről, az interoperabilitásról és a várható előnyökről;\n"
            "(b) az ideiglenes listára vételről három hónapon belül születne döntés;\n"
            "(c) a végleges listára vételhez tizenkét–huszonnégy hónapon belül igazolni kellene az "
            "ellátásra gyakorolt pozitív hatást;\n"
            "(d) az egyik tagállamban elvégzett értékelést a többi tagállam elismerné, vagy azt kellő "
            "súllyal figyelembe venné."
        ),
    ),
    (
        "A digitális megoldások gyorsított jóváhagyása — Szabályozói tesztkörnyezetek",
        (
            "Felhívjuk a tagállamokat és a Bizottságot, hogy hozzanak létre olyan szabályozói "
            "tesztkörnyezeteket, amelyekben az innovatív digitális egészségügyi megoldások valódi betegek "
            "bevonásával és valós adatokon tesztelhetők az illetékes hatóságok és az adatvédelmi "
            "hatóságok felügyelete mellett. Klasztereink belépési pontként szolgálnak majd tagjaik "
            "számára e tesztkörnyezetekhez, és nyíltan megosztják a levont tanulságokat."
        ),
    ),
    (
        "A digitális megoldások gyorsított jóváhagyása — Az MDR és az IVDR végrehajtása",
        (
            "Gyakorlati iránymutatást kérünk az orvostechnikai eszköznek minősülő szoftverek MDR és IVDR "
            "szerinti minősítésére és osztályba sorolására vonatkozóan, továbbá elegendő bejelentett "
            "szervezeti kapacitást, valamint a kkv-k számára csökkentett díjú eljárást. Klasztereink "
            "szabályozási képzést és a benyújtást megelőző támogatást nyújtanak, hogy a gyártók már "
            "elsőre hiánytalan dokumentációt nyújtsanak be."
        ),
    ),
    (
        "A digitális megoldások gyorsított jóváhagyása — Közös evidenciaszabványok",
        (
            "Támogatjuk a digitális egészségügyi megoldások klinikai és gazdasági értékének értékelésére "
            "szolgáló, az egészségügyi technológiaértékelő szervekkel, a finanszírozókkal, a "
            "klinikusokkal és a betegekkel közösen kidolgozott közös európai kritériumokat. A közös "
            "kritériumok lehetővé tennék, hogy egy vállalat több piac számára egyetlen bizonyítékanyagot "
            "állítson össze, ahelyett, hogy minden országban megismételné a vizsgálatokat."
        ),
    ),
    (
        "Nyomon követés",
        (
            "E nyilatkozatot 2020 szeptemberében digitális fórumunkon mutatjuk be, a fenti "
            "kötelezettségvállalások teljesítését évente felülvizsgáljuk, és beszámolunk a soron "
            "következő elnökségeknek, kezdve a 2021. évi portugál és szlovén elnökséggel. Felkérjük "
            "Európa más klaszterszervezeteit is, hogy csatlakozzanak a nyilatkozathoz."
        ),
    ),
    (
        "Aláírás",
        "Elfogadták a részt vevő klaszterek, a nevükben pedig meghatalmazott képviselőik írták alá.",
    ),
]
