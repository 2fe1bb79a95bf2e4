from django.urls import path

from evaluation.scoring import views

app_name = "evaluation"
urlpatterns = [
    path("survey/<int:hall_id>/", views.survey, name="survey"),
    path("survey/<int:hall_id>/thanks/", views.survey_thanks, name="survey_thanks"),
]
