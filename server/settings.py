"""One typed settings object, read from ``SGL_*`` environment variables and the CLI."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SGL_", extra="ignore")

    mongodb_uri: str | None = None
    """Production MongoDB (replica set). Unset: the embedded SecantusDB of ``data_dir`` is used."""
    database: str = "opensgl"
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: int = 8080
    mllp_port: int = 2575
    astm_port: int = 2576
    astm_charset: str = "auto"
    """ASTM character set (the protocol does not declare one): ``auto`` = UTF-8 when the bytes are
    valid UTF-8, else Latin-1; or a codec name (``latin-1``, ``cp1252``...)."""
    astm_max_frame: int = 64 * 1024
    """Longest ASTM frame accepted (E1381 says 240 characters; several instruments send far more)."""
    mllp_tls_port: int = 0
    """MLLP over TLS (IHE ATNA style), beside or instead of plain MLLP; 0: off. Needs the two files below."""
    mllp_tls_cert: Path | None = None
    """PEM certificate (with its chain) the TLS listener presents."""
    mllp_tls_key: Path | None = None
    mllp_tls_ca: Path | None = None
    """PEM CA bundle; when set, a partner must present a client certificate issued by it (mutual TLS)."""
    # Annuaire Santé (server/annuaire)
    annuaire_source: str | None = None
    """Extractions the scheduled load reads: files or URLs, comma separated, the MSSanté one first (e.g. the
    ANS ``.../Extraction_Correspondance_MSSante,.../PS_LibreAcces`` URLs); unset: no scheduled load."""
    annuaire_every_hours: float = 0.0
    """Frequency of the scheduled load in hours (SGL.ANN.04; 24 = daily, as ANS publishes); 0: off."""
    annuaire_ca: Path | None = None
    """CA bundle for the ANS download server (IGC-Santé élémentaire root); unset: the system CAs."""
    annuaire_poll: float = 60.0
    """How often (seconds) the server checks whether a scheduled load is due."""
    # retention of health data (server/retention: SGL.DOC.20, SGL.INS.57)
    retention_every_hours: float = 0.0
    """Frequency of the retention job in hours (24 = daily); 0: only ``sgl retention run``."""
    retention_archive_years: int = 5
    """CR-Bio archived this many years after the patient's last activity (SGL.DOC.20)."""
    retention_destroy_years: int = 20
    """CR-Bio destroyed this many years after the patient's last activity (SGL.DOC.20)."""
    retention_identity_years: int = 5
    """Identity-document copies deleted this many years after the patient's last activity (SGL.INS.57)."""
    identity_document_key_file: Path | None = None
    """File holding the master key (base64 of 32 random bytes, ``sgl retention new-key``) that wraps the key of
    each identity-document copy (AES-256-GCM envelope encryption, SGL.INS.57); never stored in the database.
    Unset: no copy can be kept."""
    # access control (server/access)
    jwt_key_file: Path | None = None
    """JWK (ES256) signing the access tokens; unset: generated at first start in <data dir>/access, mode 0600."""
    token_ttl: int = 600
    """Lifetime of an access token, seconds (short: a refresh token gets the next one)."""
    refresh_ttl: int = 8 * 3600
    cookie_secure: bool = True
    """Session cookies carry ``Secure`` (the workbench is served over HTTPS behind the reverse proxy)."""
    public_base_url: str | None = None
    """Base URL written in Bundle links and Location headers; default: from the request."""
    test_mode: bool = False
    autoverification: bool = False
    """Validate a report automatically when all its results pass the rules (recorded as such: SGL.DOC.09)."""
    validation_rules: Path | None = None
    """JSON rules for coded results, delta checks and autoverification; unset: server/validation/rules.json."""
    circuit_value_set: Path | None = None
    """FHIR ValueSet (JSON) of the bioloinc.fr "circuit de la biologie" release that LOINC imports are checked
    against (SGL.LOI.07); unset: the stand-in shipped in terminology/valuesets."""
    # Pro Santé Connect login (server/psc, facades/psc)
    psc_discovery_url: str | None = None
    """PSC discovery document: production
    https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration, the
    sandbox (auth.bas.psc.esante.gouv.fr) or ``sgl psc-simulator``; unset: PSC login answers 503."""
    psc_client_id: str | None = None
    psc_client_secret: str | None = None
    psc_ca: Path | None = None
    """Extra CA for the provider's TLS certificate (the simulator's ``ca.pem``); unset: the system CAs."""
    psc_redirect_uri: str | None = None
    """The callback registered with PSC; default ``<public base URL>/auth/psc/callback``."""
    psc_after_login: str = "/"
    """Where the browser lands once the session is open (the web workbench)."""
    # identitovigilance and INSi (server/identity)
    ins_display: str = "matricule,oid,birth_first_names,birthplace,used_names"
    """SGL.INS.02: the INS fields the web workbench shows besides birth name, first birth first name, birth date
    and sex (always shown): a comma-separated subset of ``matricule`` (matricule INS and its type), ``oid``,
    ``birth_first_names`` (the whole list), ``birthplace``, ``used_names``; empty: only the four."""
    web_dir: Path | None = None
    """The built web workbench (``npm run build`` in web/); unset: ``web/dist`` of this checkout."""
    worklist_heartbeat_s: float = 15.0
    """``GET /fhir/$worklist-events``: seconds without a change before a heartbeat comment is sent."""
    worklist_streams_per_user: int = 4
    """``GET /fhir/$worklist-events``: streams one user (or API client) may hold open at once."""
    identity_referential: bool = False
    """The lab is its patients' identity referential (city lab, "RI"): creation minimum SGL.INS.11 enforced."""
    identity_justificatifs: dict[str, str] = {}
    """Site list of identity justificatifs, code -> ``high``/``low`` trust (SGL.INS.19); empty: the default list."""
    insi_url: str | None = None
    """INSi endpoint (e.g. https://services-ps-tlsm.ameli.fr/lps); unset: INSi operations answer 503."""
    insi_cert: Path | None = None
    """IGC-Santé organisation certificate (CN INSI-MANU / INSI-AUTO), PEM."""
    insi_key: Path | None = None
    insi_ca: Path | None = None
    """CA bundle trusted for the INSi server certificate."""
    insi_idam: str = "OPENSGL-DEV"
    """Software authorisation number (IDAM) given by the GIE SESAM-Vitale after homologation."""
    insi_instance: str = "00000000-0000-4000-8000-000000000000"
    """UUID of this installation, sent in ContexteLPS."""
    # DMP feeding (server/delivery/dmp_channel.py, facades/dmp); unset URL: no DMP channel
    dmp_url: str | None = None
    """DMP services base URL (``.../si-dmp-server/v2/services``; ``/repository`` and ``/registry`` appended)."""
    dmp_cert: Path | None = None
    """The structure's IGC-Santé authentication certificate (ORG AUTH_CLI), PEM, for mutual TLS."""
    dmp_key: Path | None = None
    dmp_ca: Path | None = None
    """CA bundle trusted for the DMP server certificate."""
    dmp_seal_cert: Path | None = None
    """The structure's seal certificate (ORG SIGN) signing the VIHF and the submission sets; default dmp_cert."""
    dmp_seal_key: Path | None = None
    dmp_structure_id: str | None = None
    """Identifiant_Structure of the VIHF and authorInstitution; default ``3`` + the lab profile's FINESS."""
    dmp_automate_id: str = ""
    """VIHF NameID for automatic sending (the person responsible for the processing); default the lab
    profile's responsible biologist."""
    dmp_timeout: float = 30.0
    """Seconds the DMP has to answer one transaction before the delivery is retried."""
    dmp_web_url: str = "https://127.0.0.1:8446/web-ps"
    """The DMP web portal for professionals, where the TD0.9 contextual call is posted (``$dmp-access``, SGL.DMP.05);
    default: the landing page of ``sgl dmp-simulator``."""
    dmp_lps_id: str = ""
    dmp_homologation: str = ""
    """LPS_ID and LPS_ID_HOMOLOGATION_DMP of the VIHF (given by the CNDA)."""
    structure_id: str = "opensgl-lab"
    """The lab structure (FINESS / SIRET) named as INSi emitter."""
    # MSSanté (facades/mssante): the lab's applicative BAL at its operator
    mss_smtp: str | None = None
    """Operator SMTP submission ``host:port`` (STARTTLS, usually 587); unset: no MSSanté sending."""
    mss_imap: str | None = None
    """Operator IMAP ``host:port`` (STARTTLS, usually 143), where receipts are read."""
    mss_cert: Path | None = None
    """The applicative BAL's IGC-Santé organisation certificate (ORG AUTH_CLI), PEM."""
    mss_key: Path | None = None
    mss_ca: Path | None = None
    """IGC-Santé root and intermediate CAs trusted for the operator's certificate (and nothing else), PEM."""
    mss_crl: list[Path] = []
    """Current CRLs of those CAs, PEM (SGL.MSS.06); without one, the operator certificate is checked by OCSP
    (its AIA responder or ``mss_ocsp``), and a connection with neither is refused."""
    mss_ocsp: str | None = None
    """An OCSP responder URL for the operator's certificate, overriding the one the certificate names (AIA)."""
    mss_from: str | None = None
    """The applicative BAL's address (``From``)."""
    mss_label: str = "Laboratoire - envoi automatique des résultats"
    """Sender label shown by mail clients (SGL.MSS.13): the BAL's title."""
    mss_contact: str | None = None
    """Organisational BAL named in the footer and in ``Reply-To`` (SGL.MSS.11, .26)."""
    mss_reply_to_patients: str | None = None
    """Reply address for mails to patients, when it differs from ``mss_contact`` (SGL.MSS.26)."""
    mss_automatic: bool = True
    """Send each validated report automatically (city lab, SGL.MSS.17/.20); ``false`` in a hospital setting, where
    sending is a professional's chosen action (SGL.MSS.18/.21: ``$mssante-send``)."""
    mss_receipts_poll: float = 60.0
    """Seconds between two readings of the BAL's inbox for DSN / MDN receipts (SGL.MSS.22)."""
    mss_nil: str = "OPENSGL"
    """Product reference from convergence.esante.gouv.fr, sent as ``X-MSS-NIL``."""
    lab_profile: Path | None = None
    """JSON lab identity printed on CR-Bio documents (name, FINESS, address, OID root, RGPD text, Cofrac number);
    unset: server/documents/lab_profile.json."""
    # limits a hostile or broken client cannot pass (README "Limits")
    max_body_bytes: int = 4 * 1024 * 1024
    """Largest HTTP request body; beyond it the answer is 413 (OperationOutcome) before the body is read."""
    max_document_body_bytes: int = 64 * 1024 * 1024
    """Largest body where large ones are legitimate: ``$import-crbio``, ``$loinc-import`` and ``Binary``."""
    max_socket_connections: int = 256
    """Open MLLP (and, separately, ASTM) connections at once; one more is closed at once (logged once)."""
    max_socket_connections_per_address: int = 32
    """Open connections from one source address at once, per listener (a middleware may hold several)."""
    max_http_connections: int = 512
    """Open HTTP connections at once; one more is closed at once (the first refusal logged, then the count)."""
    max_http_connections_per_address: int = 512
    """The same per source address: lower it when clients reach ``sgl serve`` directly; behind a reverse
    proxy every connection comes from the proxy's address."""
    auth_failures_per_address: int = 20
    """Failed logins, client authentications and password changes from one address within
    ``auth_failure_window``; past it the address gets 429 without any password checked."""
    auth_failure_window: float = 900.0
    password_hash_threads: int = 0
    """Argon2id checks (logins, client secrets, password changes) running at once, on threads of their own (0: one
    per two cores, at least 1, at most 2)."""
    password_hash_queue: int = 16
    """Checks waiting for one of those threads; one more gets 503 + Retry-After at once, no password checked."""
    """Seconds of the window above (a blocked address may try again once its oldest failure is that old)."""
    http_head_timeout: float = 30.0
    """Seconds a client has to send a request's line and headers (from its connection or the previous answer);
    late: 408 and closed (closed without a word when nothing came)."""
    http_body_timeout: float = 60.0
    """Seconds a request body may take, plus one per ``http_body_min_rate`` bytes received; late: closed."""
    http_body_min_rate: float = 1024.0
    """Bytes per second a request body must average once ``http_body_timeout`` has passed."""
    http_keep_alive: int = 20
    """Seconds a kept-alive HTTP connection may stay idle between two requests before the server closes it.
    Longer than the idle expiry of the clients' own pools (httpx: 5 s), which then always give up a connection
    before the server does: with uvicorn's default of 5 s, the same as httpx's, a client could send its request
    on a connection the server was closing at that instant, and see it dropped (a read error under load)."""
    socket_idle_timeout: float = 3600.0
    """Seconds a connection may stay silent between messages before it is closed (instruments reconnect)."""
    socket_frame_timeout: float = 60.0
    """Seconds without a byte in the middle of an MLLP frame before the connection is closed and the
    unfinished frame freed."""
    journal_replay_grace: float = 600.0
    """Seconds after which an inbound journal entry still ``received`` is replayed whoever received it (another
    host's ``sgl serve`` may be alive and handling it until then; a dead process of this host is replayed at once).
    Must be longer than a live handler may hold a message; an entry younger than this at start-up is taken by a
    later pass once it is this old (``server/inbound/replay.py``)."""
    mllp_max_frame_bytes: int = 16 * 1024 * 1024
    """Largest MLLP frame; a longer one is skipped (only its head kept) and answered AR."""
    log_burst: int = 50
    """Records logged from one line of code within ``log_window`` seconds; more are counted and summarised."""
    log_window: float = 10.0
    """Window of the log rate limit, in seconds."""
    # documents and delivery (server/documents/producer.py, server/delivery)
    document_workers: int = 0
    """Processes of the document pool; 0: one per core this process may use (its CPU affinity)."""
    document_warmup: bool = True
    """Start the document pool's processes at start-up and compile the ANS schematrons and load the fonts in
    each (about 3 s of CPU per process), so that the first report does not pay it."""
    crbio_seal_cert: Path | None = None
    """The structure's IGC-Santé ORG SIGN certificate (the cachet, often SGL_DMP_SEAL_CERT) sealing each CR-Bio
    PDF (PAdES B-B, visible box, SGL.DOC.19); unset: PDFs are not sealed. Checked at start-up."""
    crbio_seal_key: Path | None = None
    """Its unencrypted PEM private key (required with crbio_seal_cert)."""
    crbio_seal_chain: Path | None = None
    """PEM file of the issuing CA certificates, embedded in the signature so a reader can build the chain."""
    """Processes making CR-Bio documents (PDF/A, N3, N1 and their checks); 0: one per core."""
    delivery_concurrency: int = 4
    """Deliveries sent at once by one server process."""
    delivery_attempts: int = 8
    """Attempts of a delivery that keeps failing transiently before it becomes a failure Task."""
    delivery_backoff: float = 30.0
    """Seconds before the 2nd attempt; doubled at each attempt (with jitter ×0.5–1.5), capped by the next."""
    delivery_backoff_max: float = 3600.0
    delivery_timeout: float = 60.0
    """Seconds a channel may take for one send (connect, send, answer) before the attempt counts as transient."""
    delivery_lease: float = 120.0
    """Seconds a process holds a taken document job or delivery; after a crash another process (or the restarted
    one) takes the item once this has passed. Longer than ``delivery_timeout``."""
    delivery_poll: float = 0.5
    """Seconds between two looks at the queues when idle."""
    dpi_tls_ca: Path | None = None
    """When set, results go to the DPI partners over MLLP/TLS, trusting this PEM CA bundle for their certificates
    (and presenting ``mllp_tls_cert``/``mllp_tls_key`` when set: mutual TLS); unset: plain MLLP."""

    @property
    def ins_display_fields(self) -> list[str]:
        """``ins_display`` as a list, unknown names left out (a typo hides a field, never shows an extra one)."""
        known = ("matricule", "oid", "birth_first_names", "birthplace", "used_names")
        wanted = {f.strip() for f in self.ins_display.split(",")}
        return [f for f in known if f in wanted]
