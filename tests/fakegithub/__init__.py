"""A local fake of GitHub's REST and GraphQL APIs, backed by real git repositories, for end-to-end tests.

QUICK START
    async with running_fake(tmp_path) as fake:          # 127.0.0.1:<free port>
        pr = fake.setup_pull({"Dockerfile": "FROM alpine\\n"},             # files on base (main)
                             {"Dockerfile": "FROM alpine\\nUSER root\\n"})  # changes on head (feature)
        # = add_installation(1) + add_repo("octo/app") + branch + commit + open_pull -> PR #1
        gh = gidgethub.aiohttp.GitHubAPI(session, "unroot", base_url=fake.base_url)
        # the app: fake.app.app_id (4242), fake.app.private_pem, installation id 1
    URLs: fake.base_url (api.github.com style), fake.ghes_base_url (<base>/api/v3),
          fake.graphql_url (<base>/graphql), fake.ghes_graphql_url (<base>/api/graphql).
    Fixtures (tests/conftest.py imports them): app_key, the process-wide RSA test key pair;
    fake_github, a running FakeGitHub in tmp_path/"github". Import it as tests.fakegithub only.

Where things are (moto's split: state, handlers, route table):
    server.py       FakeGitHub: lifecycle, the one aiohttp handler (log, faults, auth, route), knobs
    backend.py      GitHubState: the state, its setup API (add_repo, setup_pull, …), lookups, git reads
    state.py        the dataclasses of the state (FakeApp, FakeRepo, PullRequest, CheckRun, Review, …)
    faults.py       fail_next, rate_limit_next, hold_next, graphql_error_next, random fault rates
    routes.py       the route table: method, path template, handler, JWT or token, OpenAPI operation
    auth.py         app JWTs, installation tokens, what a token may see
    rest_*.py       the REST handlers by area (apps, repos/contents/compare, checks, reviews)
    shapes.py       the REST JSON shapes; openapi.py checks bodies against tests/data/openapi-subset.json
    graphql_api.py  POST /graphql: the objects and resolvers; graphql_engine.py runs each query
                    through graphql-core against tests/data/github-graphql-subset.json
    diff.py, gitobjects.py   diffs from real `git diff`; objects from `git cat-file --batch`
    fixtures.py     running_fake, the pytest fixtures app_key and fake_github, fake_in_thread
Each module's docstring and the docstrings of FakeGitHub's public methods say the rest.
"""

from .backend import GitHubState
from .diff import DiffFile, DiffLine, Hunk, diff_files, parse_patch
from .fixtures import app_key, fake_github, fake_in_thread, running_fake
from .keys import AppKey, generate_app_key, shared_app_key
from .server import FakeGitHub
from .state import (
    CheckRun,
    FakeApp,
    FakeRepo,
    Installation,
    LoggedRequest,
    PullRequest,
    Review,
    ReviewComment,
    ReviewThread,
    Token,
)

__all__ = [
    "AppKey",
    "CheckRun",
    "DiffFile",
    "DiffLine",
    "FakeApp",
    "FakeGitHub",
    "FakeRepo",
    "GitHubState",
    "Hunk",
    "Installation",
    "LoggedRequest",
    "PullRequest",
    "Review",
    "ReviewComment",
    "ReviewThread",
    "Token",
    "app_key",
    "diff_files",
    "fake_github",
    "fake_in_thread",
    "generate_app_key",
    "parse_patch",
    "running_fake",
    "shared_app_key",
]
