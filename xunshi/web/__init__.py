"""The web desk (`xunshi serve`): pages and a JSON API over the same services and read side
as the CLI, for people who sign in.

`app.py` builds the application; `sessions.py` signs cookies and checks CSRF tokens;
`scope.py` decides what a user may see and do; `pages.py` and `api.py` are the routes;
`timeline.py` draws the round's timeline picture. Templates and the stylesheet ship in the
package: nothing is fetched at run time.
"""
