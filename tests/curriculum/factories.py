import factory

from apps.curriculum.models import Concept, Course, Misconception, Unit


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    is_published = True


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Unit {n}")
    position = factory.Sequence(int)


class ConceptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Concept
        skip_postgeneration_save = True

    course = factory.SubFactory(CourseFactory)
    text = factory.Sequence(lambda n: f"Concept {n}")
    difficulty = 3

    @factory.post_generation
    def units(self, create, extracted, **kwargs):
        if create and extracted:
            self.units.set(extracted)


class MisconceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Misconception

    concept = factory.SubFactory(ConceptFactory)
    name = factory.Sequence(lambda n: f"Misconception {n}")
    remediation = "Here is what is actually true."
