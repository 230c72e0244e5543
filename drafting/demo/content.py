"""Demo content for the drafting app: a network of health-innovation clusters drafting
a Joint Declaration on the European Health Data Space and a Joint Action Plan 2024-2029.

All organisations and people are fictional. Plain data only; `check()` validates it.
"""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "drafting-demo"  # all demo users share it

SECRETARIAT = "Baltic Health Network Secretariat"
BG = "Thracian MedTech Cluster"
BE = "Scheldt Life Sciences Cluster"
CZ = "Vltava Digital Health Cluster"
HU = "Danube Health Cluster"
PT = "Atlantic Health Innovation Cluster"
ES = "Meseta BioHealth Cluster"
SE = "Mälaren Health Data Cluster"

ORGANISATIONS: list[dict[str, Any]] = [
    {"name": SECRETARIAT, "country": "DE", "participant": False},
    {"name": BG, "country": "BG", "participant": True},
    {"name": BE, "country": "BE", "participant": True},
    {"name": CZ, "country": "CZ", "participant": True},
    {"name": HU, "country": "HU", "participant": True},
    {"name": PT, "country": "PT", "participant": True},
    {"name": ES, "country": "ES", "participant": True},
    {"name": SE, "country": "SE", "participant": True},
]

_EDITOR = {"declaration": "editor", "action_plan": "editor"}
_COMMENTER = {"declaration": "commenter", "action_plan": "commenter"}
_SIGNATORY = {"declaration": "signatory", "action_plan": "signatory"}
_OBSERVER = {"declaration": "observer", "action_plan": "observer"}
_NONE = {"declaration": None, "action_plan": None}

USERS: list[dict[str, Any]] = [
    # Secretariat
    {"email": "admin@drafting.example", "name": "Friederike Albrecht", "org": SECRETARIAT,
     "admin": True, "roles": dict(_NONE)},
    {"email": "observer@drafting.example", "name": "Lukas Brenner", "org": SECRETARIAT,
     "admin": False, "roles": dict(_OBSERVER)},
    # Drafting committee
    {"email": "editor@drafting.example", "name": "Tereza Novotná", "org": CZ,
     "admin": False, "roles": dict(_EDITOR)},
    {"email": "ines.carvalho@atlantichealth.example", "name": "Inês Carvalho", "org": PT,
     "admin": False, "roles": dict(_EDITOR)},
    {"email": "johan.lindqvist@malarenhealth.example", "name": "Johan Lindqvist", "org": SE,
     "admin": False, "roles": dict(_EDITOR)},
    # Cluster representatives
    {"email": "radoslav.kolev@thraciamed.example", "name": "Radoslav Kolev", "org": BG,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "commenter@drafting.example", "name": "Lieve Vandamme", "org": BE,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "ondrej.kratochvil@vltavahealth.example", "name": "Ondřej Kratochvíl", "org": CZ,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "bence.halmos@danubehealth.example", "name": "Bence Halmos", "org": HU,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "rui.mendonca@atlantichealth.example", "name": "Rui Mendonça", "org": PT,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "marta.echeverria@mesetabio.example", "name": "Marta Echeverría", "org": ES,
     "admin": False, "roles": dict(_COMMENTER)},
    {"email": "sara.ekdahl@malarenhealth.example", "name": "Sara Ekdahl", "org": SE,
     "admin": False, "roles": dict(_COMMENTER)},
    # Signatories
    {"email": "mila.stoyanova@thraciamed.example", "name": "Mila Stoyanova", "org": BG,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "pieter.claessens@scheldtlife.example", "name": "Pieter Claessens", "org": BE,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "jana.vondrackova@vltavahealth.example", "name": "Jana Vondráčková", "org": CZ,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "signatory@drafting.example", "name": "Katalin Szűcs", "org": HU,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "helena.pires@atlantichealth.example", "name": "Helena Sousa Pires", "org": PT,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "javier.olmedo@mesetabio.example", "name": "Javier Olmedo", "org": ES,
     "admin": False, "roles": dict(_SIGNATORY)},
    {"email": "anders.vikstrom@malarenhealth.example", "name": "Anders Vikström", "org": SE,
     "admin": False, "roles": dict(_SIGNATORY)},
]


# ---------------------------------------------------------------------------
# Joint Declaration (drafting phase)
# ---------------------------------------------------------------------------

DECLARATION_CLAUSES: list[dict[str, Any]] = [
    {
        "heading": "Preamble",
        "text": (
            "We, the undersigned health-innovation clusters from Bulgaria, Belgium, the Czech Republic, "
            "Hungary, Portugal, Spain and Sweden, together representing more than 1,400 universities, "
            "hospitals, research institutes, pharmaceutical and medical technology companies and start-ups, "
            "adopt this Joint Declaration under the coordination of the Baltic Health Network Secretariat."
            "\n\n"
            "We address it to the German Presidency of the Council of the European Union in the second half "
            "of 2020, which has made a genuine European health data space and a code of conduct for the use "
            "of health data one of its priorities, and to the Presidencies that will follow it."
        ),
    },
    {
        "heading": "Purpose of this declaration",
        "text": (
            "This declaration draws on the best practices and bottlenecks reported by our members during the "
            "consultation held in the spring of 2020. It sets out commitments that the signatory clusters will "
            "pursue themselves, together with proposals for instruments at EU level that would remove the "
            "obstacles we have identified."
        ),
    },
    {
        "heading": None,
        "text": (
            "Recalling that the COVID-19 pandemic has shown how much Europe depends on the timely exchange of "
            "reliable health data between public health authorities, hospitals and researchers, and how costly "
            "the absence of such exchange can be;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Recalling the European strategy for data of February 2020 and the Commission's intention to "
            "establish common European data spaces, including a European Health Data Space built on trust, "
            "interoperability and clear rules for access;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Recalling the work of the eHealth Network on cross-border ePrescriptions and patient summaries "
            "through MyHealth@EU, and the lessons learned from connecting the first Member States;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Noting that the General Data Protection Regulation already provides a legal basis for the "
            "secondary use of health data for research and public health, but that divergent national "
            "implementation of its derogations leaves researchers and companies facing as many as 27 "
            "different sets of requirements;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Noting that health data in most Member States remain fragmented across regions, hospitals, "
            "registries and private providers, and that this fragmentation, far more than any shortage of data, "
            "slows down research and innovation;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Noting that small and medium-sized enterprises develop a large share of Europe's digital health "
            "innovations but often lack the regulatory expertise, test environments and early-stage finance "
            "needed to bring them to patients;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Considering that citizens' trust is the precondition for any health data space, and that trust "
            "depends on transparency about who uses data, for what purpose and with what benefit to society;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Considering that the transition to the Medical Device Regulation (EU) 2017/745 and the In Vitro "
            "Diagnostic Medical Devices Regulation (EU) 2017/746, combined with limited notified body capacity, "
            "risks delaying the market entry of safe and effective digital solutions;"
        ),
    },
    {
        "heading": None,
        "text": (
            "Considering that clusters, as neutral brokers between academia, healthcare providers, industry and "
            "public authorities, are well placed to test, scale and spread good practice across borders;"
        ),
    },
    {
        "heading": None,
        "text": (
            "We therefore commit ourselves to the following actions and call on the Council, the European "
            "Commission and the Member States to support them."
        ),
    },
    # --- Research -----------------------------------------------------------
    {
        "heading": "Research — Cross-border access to research data",
        "text": (
            "We will work towards a single, predictable procedure for accessing health data in cross-border "
            "research projects, so that a consortium studying, for example, the course of a viral infection in "
            "several countries needs to apply only once. We call for a network of national health data access "
            "bodies that recognise one another's permits, and we aim for at least 40% of the multi-country "
            "research projects led by our members to use such a joint permit by 2027."
        ),
    },
    {
        "heading": "Research — FAIR data and common data models",
        "text": (
            "We will encourage our members to make research datasets findable, accessible, interoperable and "
            "reusable in line with the FAIR principles, and to publish their metadata in a common catalogue. "
            "Where routine care data are used for observational research, we will promote mapping to a common "
            "data model such as OMOP, so that the same analysis can be run in several countries without moving "
            "the data."
            "\n\n"
            "We aim to have at least 60 hospitals and registries within our networks mapped to a common data "
            "model by 2025."
        ),
    },
    {
        "heading": "Research — Federated analysis and trusted research environments",
        "text": (
            "We support federated analysis as the default approach for sensitive health data: the algorithm "
            "travels to the data, and only aggregate results leave the data holder. We will pool our expertise "
            "on trusted research environments that meet common security and audit requirements, and we propose "
            "that the EU co-fund a certification scheme for such environments."
        ),
    },
    {
        "heading": "Research — Data altruism and dynamic consent",
        "text": (
            "We will support initiatives that allow citizens to make their health data available for research "
            "in the general interest, for example through data altruism organisations and dynamic consent tools "
            "that let individuals change their choices at any time. Such schemes must be voluntary, transparent "
            "and easy to withdraw from, and should tell participants what their data have made possible."
        ),
    },
    {
        "heading": "Research — Infectiology and pharmacology",
        "text": (
            "We propose that the EU prepare standing protocols, data-sharing agreements and ethics templates that "
            "can be activated within days when a new pathogen emerges. Our members will contribute to shared "
            "platforms for clinical trial data, genomic surveillance of variants and the post-authorisation "
            "safety monitoring of vaccines and medicines."
        ),
    },
    # --- Patient care -------------------------------------------------------
    {
        "heading": "Patient care — Cross-border coordination of critical care capacity",
        "text": (
            "We call for a European overview of intensive care capacity, updated at least daily, that shows "
            "available ICU beds, ventilators and specialist staff, starting with border regions, and allows "
            "hospitals to arrange patient transfers across borders. Our clusters will help to connect existing "
            "regional dashboards to it through a minimum common dataset, and will support regional authorities "
            "in agreeing transfer and reimbursement rules before the next crisis rather than during it."
        ),
    },
    {
        "heading": "Patient care — Cross-border ePrescription and patient summaries",
        "text": (
            "We support the rapid extension of cross-border ePrescription, eDispensation and patient summaries "
            "to all Member States. By 2025 at least 20 Member States should exchange patient summaries and "
            "ePrescriptions through MyHealth@EU, and by 2027 the services should also cover laboratory results, "
            "medical images and hospital discharge reports."
        ),
    },
    {
        "heading": "Patient care — Interoperable health records",
        "text": (
            "We will promote the use of open, internationally recognised standards in all new health IT "
            "procured by our members' hospitals and regions, in particular:"
            "\n\n"
            "- HL7 FHIR for the exchange of clinical information between systems;\n"
            "- openEHR for long-term, vendor-neutral clinical data repositories;\n"
            "- IHE integration profiles for document sharing and imaging;\n"
            "- SNOMED CT, LOINC and ICD for clinical terminology and classification."
            "\n\n"
            "We call on the Commission to build on its Recommendation on a European electronic health record "
            "exchange format and to set a clear, binding timetable for its adoption."
        ),
    },
    {
        "heading": "Patient care — Distribution of medical supplies",
        "text": (
            "We propose a shared, near-real-time view of stocks of critical medicines, personal protective "
            "equipment and diagnostics, fed by hospitals, wholesalers and manufacturers, so that shortages can "
            "be anticipated and supplies redistributed between regions and countries. Our medical technology and "
            "pharmaceutical members are ready to contribute data under clear confidentiality rules."
        ),
    },
    {
        "heading": "Patient care — Telemedicine and continuity of care",
        "text": (
            "We will share good practice in teleconsultation, remote monitoring and hospital-at-home services "
            "that kept care running during the lockdowns. We ask Member States to make permanent the temporary "
            "rules that allowed remote care during the pandemic where they have proved safe, and to clarify the "
            "rules for cross-border teleconsultation under the Patients' Rights Directive."
        ),
    },
    # --- Digital solutions --------------------------------------------------
    {
        "heading": "Digital solutions — Early-warning systems for new waves of infection",
        "text": (
            "We support early-warning systems that combine sources such as wastewater monitoring, laboratory "
            "reporting, syndromic surveillance in primary care and anonymised mobility data to detect new waves "
            "of infection before hospitals fill up. We propose an EU reference architecture for such systems, so "
            "that regional solutions can feed a common European picture maintained by the European Centre for "
            "Disease Prevention and Control."
        ),
    },
    {
        "heading": "Digital solutions — Proximity tracing and public health measures",
        "text": (
            "Digital tools to trace contacts or to monitor adherence to physical distancing measures must be "
            "voluntary, time-limited and privacy-preserving by design. We support interoperability between "
            "national proximity-tracing apps through a common European gateway, and we will promote only "
            "solutions that rely on decentralised or aggregated data and are subject to independent evaluation."
        ),
    },
    {
        "heading": "Digital solutions — Testbeds and living labs",
        "text": (
            "Our clusters will open their testbeds, living labs and hospital innovation units to companies from "
            "the other participating regions on equal terms. By 2023 we aim to offer a joint catalogue of at "
            "least 50 test environments with common rules on data protection, ethics approval and evaluation, so "
            "that a solution validated in one region can quickly be tested in another."
        ),
    },
    {
        "heading": "Digital solutions — Artificial intelligence in health",
        "text": (
            "We will promote the development of artificial intelligence for diagnosis, triage and resource "
            "planning on high-quality, representative and well-documented datasets. We call for European "
            "reference datasets and testing facilities that allow algorithms to be evaluated independently for "
            "bias, robustness and clinical benefit before they are deployed."
        ),
    },
    {
        "heading": "Digital solutions — Cybersecurity",
        "text": (
            "A European health data space will only be as trusted as its weakest connection. We will help our "
            "members, especially smaller hospitals and SMEs, to adopt recognised security standards, and we call "
            "for dedicated EU funding for cybersecurity in healthcare providers, which were repeatedly targeted "
            "by ransomware attacks during the pandemic."
        ),
    },
    # --- Fast-track approval ------------------------------------------------
    {
        "heading": "Fast-track approval of digital solutions — A European fast-track pathway",
        "text": (
            "We propose a European fast-track pathway for low-risk digital health applications, inspired by "
            "national schemes that grant provisional reimbursement while evidence of benefit is gathered in "
            "routine care. Under such a pathway:"
            "\n\n"
            "(a) the manufacturer of a CE-marked application would submit a single dossier on safety, data "
            "protection, interoperability and expected benefit;\n"
            "(b) a decision on provisional listing would be taken within three months;\n"
            "(c) evidence of a positive effect on care would be required within twelve to twenty-four months "
            "for permanent listing;\n"
            "(d) an assessment completed in one Member State would be recognised, or given due weight, in the "
            "others."
        ),
    },
    {
        "heading": "Fast-track approval of digital solutions — Regulatory sandboxes",
        "text": (
            "We call on the Member States and the Commission to establish regulatory sandboxes in which "
            "innovative digital health solutions can be tested with real patients and real data under the "
            "supervision of competent authorities and data protection authorities. Our clusters will act as entry "
            "points to these sandboxes for their members and will share the lessons learned openly."
        ),
    },
    {
        "heading": "Fast-track approval of digital solutions — MDR and IVDR implementation",
        "text": (
            "We ask for practical guidance on the qualification and classification of medical device software "
            "under the MDR and the IVDR, for sufficient notified body capacity and for a reduced-fee procedure "
            "for SMEs. Our clusters will provide regulatory training and pre-submission support, so that "
            "manufacturers submit complete dossiers the first time."
        ),
    },
    {
        "heading": "Fast-track approval of digital solutions — Common evidence standards",
        "text": (
            "We support common European criteria for assessing the clinical and economic value of digital health "
            "solutions, developed together with health technology assessment bodies, payers, clinicians and "
            "patients. Common criteria would allow a company to build one body of evidence for several markets "
            "instead of repeating studies in each country."
        ),
    },
    # --- Closing ------------------------------------------------------------
    {
        "heading": "Follow-up",
        "text": (
            "We will present this declaration at our digital forum in September 2020, review progress on the "
            "commitments above every year and report to the Presidencies that follow, beginning with Portugal "
            "and Slovenia in 2021. We invite other cluster organisations across Europe to endorse it."
        ),
    },
    {
        "heading": "Signature",
        "text": (
            "Adopted by the participating clusters and signed on their behalf by their authorised "
            "representatives."
        ),
    },
]


# ---------------------------------------------------------------------------
# Joint Action Plan (consultation phase)
# ---------------------------------------------------------------------------

ACTION_PLAN_CLAUSES: list[dict[str, Any]] = [
    {  # 0
        "heading": "Introduction",
        "text": (
            "This Joint Action Plan sets out how seven health-innovation clusters from Bulgaria, Belgium, the "
            "Czech Republic, Hungary, Portugal, Spain and Sweden will work together from 2024 to 2029 to help "
            "close the deployment gap of digital health in Europe. It builds on two years of ecosystem mapping, "
            "case studies and dialogue events linked to the Presidencies of the Council of the European Union "
            "held by the Czech Republic, Sweden, Spain and Belgium between the second half of 2022 and the "
            "first half of 2024."
        ),
    },
    {  # 1
        "heading": "Mission",
        "text": (
            "Our shared mission is to unlock the value of health data for better prevention, diagnosis and "
            "treatment, for new scientific discoveries and for competitive European health products and "
            "services, so that people in Europe enjoy a better quality of life. We pursue this mission through "
            "inclusive, diverse and interconnected innovation ecosystems that prepare their members for the "
            "European Health Data Space."
        ),
    },
    {  # 2
        "heading": "Structure of the plan",
        "text": (
            "The plan is organised in five strands: 1 governance and coordination; 2 data and interoperability; "
            "3 innovation and SMEs; 4 skills and citizens; and 5 presidencies and policy dialogue. Each action "
            "names the clusters responsible for leading it, a timeframe and the funding sources we expect to "
            "combine, including national and regional funds alongside EU programmes."
            "\n\n"
            "All participating clusters contribute to every action; the responsible clusters coordinate the work "
            "and report on progress."
        ),
    },
    # --- Strand 1: Governance and coordination ------------------------------
    {  # 3
        "heading": "Action 1.1 — Standing coordination mechanism",
        "text": (
            "The clusters will maintain a steering group of one senior representative per cluster, meeting "
            "quarterly online and once a year in person, with a rotating chair and a small secretariat. The "
            "steering group will approve annual work programmes, follow up the actions in this plan and admit "
            "new clusters that wish to join."
            "\n\n"
            f"Responsible clusters: {CZ}; {HU}\n"
            "Timeframe: 2024-2029\n"
            "Funding sources: membership contributions; Interreg Europe; national cluster support programmes"
        ),
    },
    {  # 4
        "heading": "Action 1.2 — EHDS policy radar",
        "text": (
            "We will publish a twice-yearly briefing that tracks the implementation of the European Health Data "
            "Space Regulation, including implementing acts, the designation of national health data access "
            "bodies and related funding calls, and explains what each development means for cluster members. "
            "The radar will also keep the mapping of the seven ecosystems and their innovation agendas up to date."
            "\n\n"
            f"Responsible clusters: {BE}; {SE}\n"
            "Timeframe: 2024-2029\n"
            "Funding sources: EU4Health; Single Market Programme; membership contributions"
        ),
    },
    {  # 5
        "heading": "Action 1.3 — Monitoring and evaluation",
        "text": (
            "We will agree a small set of indicators for the plan, such as the number of SMEs supported, "
            "cross-border pilots launched and datasets catalogued, and report on them each year. A mid-term "
            "review in 2027 will assess whether the actions remain relevant and adjust them where needed."
            "\n\n"
            f"Responsible clusters: {PT}; {BG}\n"
            "Timeframe: 2024-2029, with a mid-term review in 2027\n"
            "Funding sources: membership contributions; Interreg Europe"
        ),
    },
    {  # 6
        "heading": "Action 1.4 — Inclusive and diverse ecosystems",
        "text": (
            "We will take concrete steps to make our ecosystems more inclusive: gender balance on panels, juries "
            "and steering bodies, targeted support for women-led start-ups, and outreach to regions where digital "
            "health ecosystems are still emerging. At least 40% of speakers at events organised under this plan "
            "should be women by 2026."
            "\n\n"
            f"Responsible clusters: {BG}; {ES}; {HU}\n"
            "Timeframe: 2024-2029\n"
            "Funding sources: Horizon Europe (European Innovation Ecosystems); ESF+; regional ERDF programmes"
        ),
    },
    # --- Strand 2: Data and interoperability --------------------------------
    {  # 7
        "heading": "Action 2.1 — Interoperability readiness for SMEs",
        "text": (
            "We will offer SMEs a common interoperability readiness check and coaching on HL7 FHIR, openEHR, "
            "IHE profiles and the European electronic health record exchange format, so that their products can "
            "connect to EHR systems certified under the EHDS. Each cluster will host at least one "
            "connectathon-style testing event during the plan period."
            "\n\n"
            f"Responsible clusters: {SE}; {CZ}\n"
            "Timeframe: 2025-2028\n"
            "Funding sources: Digital Europe Programme (European Digital Innovation Hubs); national recovery and "
            "resilience funds; regional ERDF programmes"
        ),
    },
    {  # 8
        "heading": "Action 2.2 — Cross-border secondary use pilots",
        "text": (
            "We will launch at least three pilots in which researchers and companies from two or more "
            "participating countries obtain access to health data for secondary use through the emerging health "
            "data access bodies. The pilots will record the time, cost and obstacles at each step and report them "
            "to national authorities and the Commission."
            "\n\n"
            f"Responsible clusters: {SE}; {ES}; {BE}\n"
            "Timeframe: 2025-2028\n"
            "Funding sources: EU4Health; Horizon Europe; Digital Europe Programme"
        ),
    },
    {  # 9
        "heading": "Action 2.3 — Shared catalogue of health datasets",
        "text": (
            "We will help data holders among our members, including hospitals, registries, biobanks and "
            "companies, to describe their datasets with common metadata so that they can be listed in national "
            "dataset catalogues and in the EU dataset catalogue. Our target is that at least 150 datasets held "
            "by cluster members are described in this way by 2027."
            "\n\n"
            f"Responsible clusters: {PT}; {SE}\n"
            "Timeframe: 2025-2027\n"
            "Funding sources: Digital Europe Programme; EU4Health; national recovery and resilience funds; "
            "regional ERDF programmes"
        ),
    },
    {  # 10
        "heading": "Action 2.4 — Common data models and data quality",
        "text": (
            "We will support hospitals and registries in mapping routine care data to common data models such as "
            "OMOP and in applying the data quality and utility label foreseen in the EHDS. Shared mapping tools "
            "and training materials will be made available to all participating regions."
            "\n\n"
            f"Responsible clusters: {ES}; {HU}\n"
            "Timeframe: 2026-2029\n"
            "Funding sources: Horizon Europe; EU4Health; national recovery and resilience funds"
        ),
    },
    # --- Strand 3: Innovation and SMEs --------------------------------------
    {  # 11
        "heading": "Action 3.1 — Network of cross-border testbeds",
        "text": (
            "We will connect the testbeds, living labs and hospital innovation units of our members into one "
            "network with a joint catalogue, common entry conditions and a voucher scheme that lets SMEs test in "
            "another participating country. We aim to support at least 120 SMEs through cross-border testing by "
            "2029."
            "\n\n"
            f"Responsible clusters: {BE}; {PT}; {CZ}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Digital Europe Programme (Testing and Experimentation Facilities); Horizon Europe; "
            "regional ERDF programmes"
        ),
    },
    {  # 12
        "heading": "Action 3.2 — Regulatory and market access navigator",
        "text": (
            "We will build a shared service that guides companies through the MDR, the IVDR, the AI Act, the EHDS "
            "and national reimbursement routes for digital health applications, such as fast-track schemes for "
            "digital therapeutics. The service will combine an online guide, country factsheets and one-to-one "
            "advice from regulatory experts in each cluster."
            "\n\n"
            f"Responsible clusters: {HU}; {BE}\n"
            "Timeframe: 2024-2027\n"
            "Funding sources: Single Market Programme; EU4Health; national cluster support programmes"
        ),
    },
    {  # 13
        "heading": "Action 3.3 — Joint calls and cross-border partnering",
        "text": (
            "We will organise matchmaking and partnering events that bring together SMEs, hospitals and data "
            "holders from different participating countries to prepare joint proposals. Where possible we will "
            "align our regional innovation vouchers, so that cross-border consortia can be funded through a joint "
            "call at least every two years."
            "\n\n"
            f"Responsible clusters: {BG}; {ES}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Interregional Innovation Investments (I3); Horizon Europe (European Innovation "
            "Ecosystems); regional ERDF programmes"
        ),
    },
    {  # 14
        "heading": "Action 3.4 — Scaling up good practices",
        "text": (
            "Each year we will select good practices from the participating ecosystems, such as remote monitoring "
            "services, data access models or procurement approaches, and support their transfer to at least one "
            "other region. Each transfer will be documented in a form that public authorities outside the network "
            "can reuse."
            "\n\n"
            f"Responsible clusters: {PT}; {CZ}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Interreg Europe; EU4Health; national recovery and resilience funds"
        ),
    },
    # --- Strand 4: Skills and citizens --------------------------------------
    {  # 15
        "heading": "Action 4.1 — Health data skills for professionals",
        "text": (
            "We will develop short modular courses on health data, interoperability and data protection for "
            "clinicians, nurses, hospital IT staff and SME employees, in cooperation with universities in our "
            "ecosystems. The courses will be offered in the languages of all participating countries and "
            "recognised through micro-credentials."
            "\n\n"
            f"Responsible clusters: {CZ}; {BG}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Digital Europe Programme (advanced digital skills); ESF+; Erasmus+"
        ),
    },
    {  # 16
        "heading": "Action 4.2 — Citizens, trust and data altruism",
        "text": (
            "We will run citizen panels in each participating country on the secondary use of health data, the "
            "right to opt out and data altruism, and publish the results to inform national implementation of the "
            "EHDS. Patient organisations will be invited to co-design the panels."
            "\n\n"
            f"Responsible clusters: {SE}; {HU}; {PT}\n"
            "Timeframe: 2025-2027\n"
            "Funding sources: EU4Health; Horizon Europe; national research councils"
        ),
    },
    {  # 17
        "heading": "Action 4.3 — Exchange programme for cluster managers",
        "text": (
            "We will set up a staff exchange programme in which cluster managers and ecosystem facilitators spend "
            "one to four weeks with a partner cluster to learn about its services, member engagement methods and "
            "funding models."
            "\n\n"
            f"Responsible clusters: {ES}; {BE}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Erasmus+; Single Market Programme (Euroclusters); membership contributions"
        ),
    },
    # --- Strand 5: Presidencies and policy dialogue -------------------------
    {  # 18
        "heading": "Action 5.1 — Capitalising on the presidency dialogues",
        "text": (
            "We will consolidate the results of the four co-planning events held during the Czech (second half of "
            "2022), Swedish (first half of 2023), Spanish (second half of 2023) and Belgian (first half of 2024) "
            "Presidencies into a public report. The report will show which recommendations have been taken up in "
            "Council conclusions and EU programmes and which remain open."
            "\n\n"
            f"Responsible clusters: {CZ}; {SE}; {ES}\n"
            "Timeframe: 2024-2025\n"
            "Funding sources: membership contributions; Interreg Europe"
        ),
    },
    {  # 19
        "heading": "Action 5.2 — Input to future presidency agendas",
        "text": (
            "For each Council Presidency in the period, starting with Hungary in the second half of 2024, we will "
            "prepare a short set of recommendations on EHDS implementation together with clusters in the "
            "presidency country and offer a side event or workshop. Where no participating cluster is based in the "
            "presidency country, we will invite a local cluster to co-organise."
            "\n\n"
            f"Responsible clusters: {HU}; {BE}\n"
            "Timeframe: 2024-2029\n"
            "Funding sources: national cluster support programmes; membership contributions; EU4Health"
        ),
    },
    {  # 20
        "heading": "Action 5.3 — Contribution to EHDS implementation",
        "text": (
            "We will take part in public consultations on EHDS implementing acts and in relevant stakeholder "
            "forums, and submit joint positions based on the evidence from our pilots and citizen panels. We will "
            "coordinate with other European health networks to avoid duplication."
            "\n\n"
            f"Responsible clusters: {BE}; {PT}\n"
            "Timeframe: 2024-2029\n"
            "Funding sources: membership contributions; Single Market Programme"
        ),
    },
    {  # 21
        "heading": "Funding and sustainability",
        "text": (
            "The actions will be financed by combining EU programmes with national and regional public funds, "
            "membership contributions and, where appropriate, private co-funding. The steering group will keep a "
            "funding calendar and assign a lead cluster to prepare each proposal."
            "\n\n"
            "Our aim is that the collaboration continues after 2029 on a self-sustaining basis, with at least a "
            "quarter of its core costs covered by membership fees and paid services."
        ),
    },
    {  # 22
        "heading": "Review and amendment",
        "text": (
            "This plan will be reviewed in 2027 and may be amended by the steering group with the agreement of "
            "all participating clusters. Any participating cluster may propose an amendment at any time."
        ),
    },
]


DOCUMENTS: list[dict[str, Any]] = [
    {
        "key": "declaration",
        "title": "Joint Declaration of European Health-Innovation Clusters on the European Health Data Space",
        "kind": "declaration",
        "phase": "drafting",
        "clauses": DECLARATION_CLAUSES,
    },
    {
        "key": "action_plan",
        "title": "Joint Action Plan 2024-2029 for Interconnected Health-Innovation Ecosystems towards the "
                 "European Health Data Space",
        "kind": "action_plan",
        "phase": "consultation",
        "deadline_days": 21,
        "clauses": ACTION_PLAN_CLAUSES,
    },
]


# ---------------------------------------------------------------------------
# Consultation on the action plan: comment threads and amendments
# ---------------------------------------------------------------------------

THREADS: list[dict[str, Any]] = [
    {
        "document": "action_plan",
        "clause_index": 3,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "accepted",
        "reason": ('The text now links the annual in-person meeting to a presidency event, unless the steering group decides otherwise.'),
        "author": "bence.halmos@danubehealth.example",
        "quote": "meeting quarterly online and once a year in person",
        "body": (
            "Could the annual in-person meeting be held back to back with the presidency side events in "
            "Action 5.2? Most of us attend those anyway, and it would save each cluster one trip a year."
        ),
        "replies": [
            {
                "author": "editor@drafting.example",
                "body": (
                    "Sensible suggestion. We will add a sentence saying that the in-person meeting is normally "
                    "linked to a presidency event, unless the steering group decides otherwise."
                ),
            },
        ],
    },
    {
        "document": "action_plan",
        "clause_index": 6,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "partly_accepted",
        "reason": ('Juries of pitch competitions now fall under the 40% target. The steering group has one member per cluster, so instead of a target the text asks clusters to consider gender balance when nominating alternates.'),
        "author": "marta.echeverria@mesetabio.example",
        "quote": "At least 40% of speakers at events organised under this plan should be women by 2026.",
        "body": (
            "We fully support the target, but speakers are only the visible part. Could we add a similar target "
            "for juries of pitch competitions and for the steering group itself?"
        ),
        "replies": [
            {
                "author": "radoslav.kolev@thraciamed.example",
                "body": (
                    "Agreed for juries. For the steering group it is harder, as each cluster nominates one "
                    "person; perhaps a commitment to consider balance when nominating alternates."
                ),
            },
            {
                "author": "ines.carvalho@atlantichealth.example",
                "body": (
                    "Thank you both. The committee will propose wording that covers juries explicitly and "
                    "encourages balanced nominations for the steering group."
                ),
            },
        ],
    },
    {
        "document": "action_plan",
        "clause_index": 8,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "accepted",
        "reason": ('The pilots may use the interim procedures of existing data holders where no access body is operational yet; comparing the two is added as a documented output.'),
        "author": "radoslav.kolev@thraciamed.example",
        "quote": "through the emerging health data access bodies",
        "body": (
            "Not every participating country will have an operational health data access body by 2025. Could "
            "the pilots also use the interim procedures of existing data holders, so that clusters in those "
            "countries are not excluded?"
        ),
        "replies": [
            {
                "author": "johan.lindqvist@malarenhealth.example",
                "body": (
                    "Yes, that was the intention. Comparing interim procedures with those of established access "
                    "bodies is in fact one of the most useful things the pilots could document."
                ),
            },
        ],
    },
    {
        "document": "action_plan",
        "clause_index": 12,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "accepted",
        "reason": ('A side-by-side comparison of the national listing routes becomes the first deliverable of the action.'),
        "author": "commenter@drafting.example",
        "quote": "such as fast-track schemes for digital therapeutics",
        "body": (
            "Several of our countries now have national listing routes for health apps with quite different "
            "evidence requirements. The navigator would be most valuable if it compared those requirements side "
            "by side rather than describing each country separately."
        ),
        "replies": [
            {
                "author": "ines.carvalho@atlantichealth.example",
                "body": "Good point; a comparison table can be one of the first deliverables of the action.",
            },
        ],
    },
    {
        "document": "action_plan",
        "clause_index": 16,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "not_accepted",
        "reason": ('The committee keeps citizen panels in all seven countries: one shared methodology and online platform keep the cost per panel low, and the mid-term review can still reduce their number if funding falls short.'),
        "author": "ondrej.kratochvil@vltavahealth.example",
        "quote": None,
        "body": (
            "Citizen panels in seven countries within three years is ambitious for the budget we are likely to "
            "have. Would it be acceptable to run them in four countries first and extend them after the mid-term "
            "review?"
        ),
        "replies": [
            {
                "author": "sara.ekdahl@malarenhealth.example",
                "body": (
                    "We could share one methodology and online platform across all countries, which keeps the "
                    "marginal cost per panel low. I would prefer to keep all seven if at all possible."
                ),
            },
        ],
    },
    {
        "document": "action_plan",
        "clause_index": 21,
        # How the committee closed it before the plan went to signing (report, disposition table).
        "disposition": "noted",
        "reason": ('The share applies to the joint collaboration as a whole, not to each cluster, as the text says; the dependence of smaller clusters on regional programmes is recorded for the mid-term review.'),
        "author": "rui.mendonca@atlantichealth.example",
        "quote": "at least a quarter of its core costs covered by membership fees and paid services",
        "body": (
            "Is a quarter realistic for the smaller clusters? Some of us depend almost entirely on regional "
            "programme funding at present."
        ),
        "replies": [
            {
                "author": "editor@drafting.example",
                "body": (
                    "The target applies to the joint collaboration, not to each cluster individually. We will make "
                    "that explicit in the text."
                ),
            },
        ],
    },
]

AMENDMENTS: list[dict[str, Any]] = [
    {
        "document": "action_plan",
        "clause_index": 5,
        "decision": "accept",
        "reason": None,
        "author": "sara.ekdahl@malarenhealth.example",
        "text": (
            "We will agree a small set of indicators for the plan, such as the number of SMEs supported, "
            "cross-border pilots launched, datasets catalogued and citizens reached, and report on them each year "
            "in an openly accessible format. A mid-term review in 2027 will assess whether the actions remain "
            "relevant and adjust them where needed."
            "\n\n"
            f"Responsible clusters: {PT}; {BG}\n"
            "Timeframe: 2024-2029, with a mid-term review in 2027\n"
            "Funding sources: membership contributions; Interreg Europe"
        ),
        "rationale": (
            "Strand 4 is about citizens, so the indicators should say how many people we actually reach. "
            "Publishing the annual report openly also supports the trust we ask others to build."
        ),
    },
    {
        "document": "action_plan",
        "clause_index": 9,
        "decision": "reject",
        "reason": "The catalogue's scope follows the datasets the EHDS pilot makes available, so a regional quota cannot be guaranteed in this action. Regional balance is one of the selection criteria of the pilots instead, and the offer of the Meseta cluster to co-lead is welcome and recorded in the minutes.",
        "author": "marta.echeverria@mesetabio.example",
        "text": (
            "We will help data holders among our members, including hospitals, registries, biobanks and "
            "companies, to describe their datasets with common metadata so that they can be listed in national "
            "dataset catalogues and in the EU dataset catalogue. Our target is that at least 150 datasets held "
            "by cluster members are described in this way by 2027, at least a third of them from outside capital "
            "regions."
            "\n\n"
            f"Responsible clusters: {PT}; {SE}; {ES}\n"
            "Timeframe: 2025-2027\n"
            "Funding sources: Digital Europe Programme; EU4Health; national recovery and resilience funds; "
            "regional ERDF programmes"
        ),
        "rationale": (
            "Without a regional balance the catalogue will mostly list datasets from a few large university "
            "hospitals. Our cluster has already mapped registries in three regions and offers to co-lead."
        ),
    },
    {
        "document": "action_plan",
        "clause_index": 17,
        "decision": "accept",
        "reason": None,
        "author": "radoslav.kolev@thraciamed.example",
        "text": (
            "We will set up a staff exchange programme in which cluster managers and ecosystem facilitators spend "
            "one to four weeks with a partner cluster to learn about its services, member engagement methods and "
            "funding models. Shorter virtual exchanges will be offered to staff who cannot travel for longer "
            "periods."
            "\n\n"
            f"Responsible clusters: {ES}; {BE}\n"
            "Timeframe: 2025-2029\n"
            "Funding sources: Erasmus+; Single Market Programme (Euroclusters); membership contributions"
        ),
        "rationale": (
            "Smaller clusters often have two or three staff and cannot release anyone for a month. A virtual "
            "option keeps the programme open to them."
        ),
    },
]


# ---------------------------------------------------------------------------
# Contributions to the declaration (best practices and bottlenecks)
# ---------------------------------------------------------------------------

CONTRIBUTIONS: list[dict[str, Any]] = [
    {
        "document": "declaration",
        "org": SE,
        "author": "sara.ekdahl@malarenhealth.example",
        "kind": "best_practice",
        "topic": "research",
        "title": "Federated analysis across regional quality registries",
        "body": (
            "Four regions in our cluster connected their quality registries and hospital data warehouses to a "
            "federated analysis platform. Researchers submit a script once; it runs locally in each region and "
            "only aggregate results are returned. The first COVID-19 outcome study using the platform was "
            "approved and completed in under ten weeks, against more than a year for comparable studies that "
            "required data to be transferred."
        ),
        "proposal": "",
    },
    {
        "document": "declaration",
        "org": ES,
        "author": "marta.echeverria@mesetabio.example",
        "kind": "bottleneck",
        "topic": "research",
        "title": "Diverging national rules on the secondary use of health data",
        "body": (
            "A multi-country study on hospital-acquired infections led by one of our members needed separate "
            "legal assessments, ethics approvals and data processing agreements in five countries, each based on "
            "a different reading of the GDPR research derogations. Eleven months passed before the first record "
            "could be analysed."
        ),
        "proposal": (
            "An EU code of conduct on the secondary use of health data under the GDPR, approved by the European "
            "Data Protection Board, combined with mutual recognition of ethics approvals for observational "
            "studies and a single application form accepted by all national data access bodies."
        ),
    },
    {
        "document": "declaration",
        "org": PT,
        "author": "rui.mendonca@atlantichealth.example",
        "kind": "best_practice",
        "topic": "patient_care",
        "title": "Shared ICU capacity dashboard for a cross-border region",
        "body": (
            "During the spring of 2020, hospitals on both sides of the border reported free intensive care beds, "
            "ventilators and staffing twice a day to a shared dashboard built by a start-up in our cluster. "
            "Regional coordinators used it to arrange transfers within hours, and the minimum dataset behind it "
            "has since been adopted by two further regions."
        ),
        "proposal": "",
    },
    {
        "document": "declaration",
        "org": HU,
        "author": "bence.halmos@danubehealth.example",
        "kind": "bottleneck",
        "topic": "patient_care",
        "title": "No agreed rules for cross-border patient transfers in a crisis",
        "body": (
            "Hospitals near the border had free capacity while neighbouring regions were overwhelmed, but "
            "transfers stalled over questions of liability, reimbursement and the transfer of medical records. "
            "Each case had to be negotiated individually between ministries."
        ),
        "proposal": (
            "A standing EU framework for crisis patient transfers under the Union Civil Protection Mechanism, "
            "with pre-agreed reimbursement under the social security coordination rules and a common electronic "
            "transfer summary based on the patient summary used in MyHealth@EU."
        ),
    },
    {
        "document": "declaration",
        "org": CZ,
        "author": "ondrej.kratochvil@vltavahealth.example",
        "kind": "best_practice",
        "topic": "digital_solutions",
        "title": "Wastewater-based early warning for a mid-sized city",
        "body": (
            "A university laboratory and the municipal water company in our cluster sample wastewater at the "
            "treatment plant three times a week and publish viral load trends on an open dashboard. Rising "
            "signals preceded increases in positive tests by five to seven days, giving the regional public "
            "health authority time to scale up testing sites."
        ),
        "proposal": "",
    },
    {
        "document": "declaration",
        "org": BG,
        "author": "radoslav.kolev@thraciamed.example",
        "kind": "bottleneck",
        "topic": "digital_solutions",
        "title": "Smaller hospitals cannot connect to digital solutions",
        "body": (
            "Many district hospitals in our region run hospital information systems that offer no standard "
            "interfaces. Start-ups with promising remote monitoring and early-warning tools must build a custom "
            "integration for every site, which makes deployment outside the largest hospitals uneconomic."
        ),
        "proposal": (
            "EU co-funded interoperability vouchers for public hospitals, earmarked within recovery and cohesion "
            "funding, together with an EU-wide conformity label for EHR systems that support HL7 FHIR interfaces "
            "and the European EHR exchange format."
        ),
    },
    {
        "document": "declaration",
        "org": BE,
        "author": "commenter@drafting.example",
        "kind": "bottleneck",
        "topic": "fast_track",
        "title": "Notified body capacity for medical device software",
        "body": (
            "Under the MDR, most clinical decision-support software moves from class I to class IIa or higher and "
            "therefore needs a notified body. Our SME members report waiting times of more than a year for a first "
            "review and fees that exceed their annual development budget."
        ),
        "proposal": (
            "An EU programme to expand notified body capacity for software, reduced fees for SMEs funded through "
            "the Single Market Programme, and binding guidance from the Medical Device Coordination Group on the "
            "classification of software."
        ),
    },
    {
        "document": "declaration",
        "org": SE,
        "author": "anders.vikstrom@malarenhealth.example",
        "kind": "bottleneck",
        "topic": "fast_track",
        "title": "Twenty-seven separate routes to reimbursement",
        "body": (
            "Even after CE marking, a digital health application must obtain reimbursement separately in every "
            "Member State, each with its own evidence requirements. For a small company, entering a second market "
            "often costs as much as the first."
        ),
        "proposal": (
            "A European fast-track pathway with a common evidence framework for digital health applications, "
            "developed with health technology assessment bodies, and a mechanism for the mutual recognition of "
            "provisional reimbursement decisions between Member States."
        ),
    },
    {
        "document": "declaration",
        "org": PT,
        "author": "ines.carvalho@atlantichealth.example",
        "kind": "best_practice",
        "topic": "fast_track",
        "title": "Hospital-based pre-assessment service for health apps",
        "body": (
            "A university hospital in our cluster offers companies a twelve-week pre-assessment covering clinical "
            "safety, data protection, usability and interoperability before they apply for CE marking or "
            "reimbursement. Companies that used the service needed on average one round of questions fewer from "
            "their notified body."
        ),
        "proposal": "",
    },
]
