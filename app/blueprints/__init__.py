"""Blueprint registration."""


def register_blueprints(app):
    from app.blueprints.account import bp as account_bp
    from app.blueprints.admin import bp as admin_bp
    from app.blueprints.applications import bp as applications_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.awards import bp as awards_bp
    from app.blueprints.complaints import bp as complaints_bp
    from app.blueprints.portal import bp as portal_bp
    from app.blueprints.reports import bp as reports_bp
    from app.blueprints.rounds import bp as rounds_bp

    app.register_blueprint(portal_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(account_bp, url_prefix="/workspace")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(applications_bp, url_prefix="/applications")
    app.register_blueprint(rounds_bp, url_prefix="/rounds")
    app.register_blueprint(complaints_bp, url_prefix="/complaints")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(awards_bp, url_prefix="/awards")
