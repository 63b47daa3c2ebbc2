"""Task: T-012, T-152
Spec: specs/api/rest-endpoints.md §Documentation

The interactive docs (`/api/v1/docs`) and the reference (`/api/v1/redoc`), served offline.
"""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = files("fastapi_offline") / "static"


def mount(app: FastAPI, prefix: str) -> None:
    static = f"{prefix}/docs/static"
    redirect = f"{prefix}/docs/oauth2-redirect"
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"
    app.mount(static, StaticFiles(directory=str(ASSETS)), name="docs-static")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — docs",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            oauth2_redirect_url=redirect,
        )

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{prefix}/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — reference",
            redoc_js_url=f"{static}/redoc.standalone.js",
            redoc_favicon_url=f"{static}/favicon.png",
            with_google_fonts=False,
        )
