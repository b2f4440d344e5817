"""One test per row of the drafter's rules table (routinecast/draft/rules.py), written from
sentences like those articles use. Each example is (sentence, the value the row gives); for
the `reword` rows, (sentence, the sentence reworded)."""

from __future__ import annotations

import pytest

from routinecast.draft import rules

EXAMPLES: dict[str, list[tuple[str, object]]] = {
    "hold-count": [("Press down and hold for a slow count of five.", "5s"),
                   ("Keep it there for a count of 8.", "8s")],
    "hold-breaths": [("Stay in that position for 5 breaths.", "5 breaths"),
                     ("Hold for 3-5 breaths.", "3-5 breaths"),
                     ("Remain here for three to six slow breaths.", "3-6 breaths")],
    "hold-a-minute": [("Do this for a minute or so.", "1m"),
                      ("Hold the stretch for about one minute.", "1m")],
    "hold-half-minute": [("Stay there for half a minute.", "30s")],
    "hold-minutes": [("Stay in this position for about 5 minutes.", "5m"),
                     ("Rest here for 1-2 minutes.", "1-2 min"),
                     ("Hold for 1.5 minutes.", "90s")],
    "hold-seconds": [("Hold for 30 seconds.", "30s"),
                     ("Hold for 15 - 20 seconds and release.", "15-20s"),
                     ("Perform each stretch for 10-30 seconds.", "10-30s"),
                     ("Stop and hold the position for ten to twenty seconds.", "10-20s"),
                     ("Hold this for 10 seconds or so.", "10s"),
                     ("Keep the pose for 45 secs.", "45s")],
    "sets-of-reps": [("Do 3 sets of 3 reps.", 3),
                     ("Aim for 2 sets of 15 seconds each side.", 2)],
    "sets": [("Do three sets, at least, before moving on.", 3),
             ("Complete 2 to 3 rounds.", "2-3")],
    "reps-more-times": [("Relax, then do it three more times.", 4),
                        ("Repeat two more times.", 3)],
    "reps-times": [("Repeat 10 times.", 10),
                   ("Repeat this sequence 5 to 10 times.", "5-10"),
                   ("Then repeat this procedure seven to ten times.", "7-10")],
    "reps-reps": [("Perform 2 reps.", 2), ("Do 3 sets of 3 reps.", 3),
                  ("Work up to 8-12 repetitions.", "8-12")],
    "sets-alternate": [("Alternate sides a few times.", "2-3"),
                       ("Alternate legs 3 times.", 3)],
    "reps-sets-of-n": [("Do 3 sets of 10.", 10), ("Aim for two sets of 8-12.", "8-12")],
    "reps-do-n-moves": [("Do 10 glides on each leg.", 10),
                        ("Draw 8 slow circles with the knee.", 8)],
    "reps-several": [("Repeat this several times.", "3-5"),
                     ("Do it a few times.", "3-5")],
    "reps-alternating": [("Keep alternating this stretch.", None),
                         ("Continue alternating between the two.", None)],
    "sides-each": [("Hold for 20 seconds on each side.", True),
                   ("Do it for 30 seconds each leg.", True),
                   ("Stretch both sides.", True)],
    "sides-other": [("Repeat on the other side.", True),
                    ("Pull the opposite knee toward the chest.", True),
                    ("Repeat this stretch on the opposite lower back muscle.", True)],
    "sides-switch": [("Hold for 30 seconds, then switch legs.", True),
                     ("Swap your legs over and fold again.", True),
                     ("Alternate sides a few times.", True)],
    "sides-repeat-with": [("Repeat with the left leg.", True),
                          ("Do the same thing using your right arm.", True)],
    "sides-right-then-left": [("Lean to the right and hold, then lean to the left.", True),
                              ("Work on the right and then the left.", True)],
    "sides-back-to-first": [("Then go back to the first side.", True)],
    "sides-side-to-side": [("Rotate at the torso from side to side.", True)],
    "caution-stop": [("Stop if you feel pain.", True),
                     ("If you start to feel any undue stress, lighten the stretch or stop.",
                      True),
                     ("If anything hurts, stop and rest.", True)],
    "caution-doctor": [("Consult a doctor before you start.", True),
                       ("You should consult with your healthcare provider first.", True),
                       ("Ask your physiotherapist if you are unsure.", True)],
    "caution-force": [("Never force the twist.", True), ("Be careful!", True),
                      ("Done badly, a twist can injure your spine.", True)],
    "frequency": [("Do these twice a day.", "twice a day"),
                  ("Start each morning with this stretch.", "each morning"),
                  ("Do them a few times a week.", "a few times a week"),
                  ("Try it every evening.", "every evening")],
    "equipment-chair": [("Sit on the front edge of a chair.", "chair")],
    "equipment-strap": [("Loop a strap around your foot.", "strap"),
                        ("Get a bed sheet at least four feet long.", "strap")],
    "equipment-towel": [("Roll up a towel and place it under your neck.", "towel")],
    "equipment-pillows": [("Slide two pillows under your hips.", "pillows"),
                          ("Take the cushions off your couch.", "pillows")],
    "equipment-bench": [("Put your heel on a low bench.", "bench")],
    "equipment-step": [("Stand on the bottom step.", "step"),
                       ("Place your foot on the 3rd or 4th step.", "step"),
                       ("Stand facing a staircase.", "step")],
    "equipment-wall": [("Stand facing a wall.", "wall"),
                       ("Rest your legs up against the wall.", "wall")],
    "equipment-mat": [("Kneel down on the mat.", "mat"),
                      ("Lie on your yoga mat.", "mat")],
    "equipment-bed": [("Lie on your bed.", "bed"), ("Rest your legs on the headboard.", "bed"),
                      ("Hang one leg off the edge of the couch.", "bed")],
    "equipment-table": [("Place your heel on a table.", "table"),
                        ("Hold the kitchen counter.", "table")],
    "equipment-foam-roller": [("Lie along a foam roller.", "foam roller")],
    "name-childs-pose": [("Sit back on your heels and reach your arms forward.", "Child's Pose")],
    "name-cat-camel": [("On your hands and knees, round your back, then arch it.",
                        "Cat and Camel")],
    "name-roll-down": [("Slowly roll down through your spine.", "Standing Roll-Down")],
    "name-single-knee": [("Pull one knee toward your chest.", "Single Knee to Chest")],
    "name-double-knee": [("Hug both knees toward your chest.", "Double Knee to Chest")],
    "name-forward-bend": [("Slowly bend forward from your hips.", "Forward Bend")],
    "name-wall-calf": [("Hands on the wall, press your back heel down.", "Wall Calf Stretch")],
    "name-heel-drop": [("Let your heels sink below the step.", "Heel Drop")],
    "name-hamstring": [("Feel it along your hamstrings.", "Hamstring Stretch")],
    "name-bridge": [("Lift your hips off the floor toward the ceiling.", "Bridge")],
    "skip-click": [("Click here to view these stretches on youtube.", True)],
    "skip-advert": [("Advertisement", True), ("Subscribe to our newsletter!", True),
                    ("Sponsored: buy our mats now, 30% off.", True)],
    "skip-copyright": [("Copyright © 2026 Example. All rights reserved.", True)],
    "skip-video": [("Watch the video below to check your form.", True),
                   ("Notice how much relief this gives you for future reference.", True)],
    "skip-bio": [("About the author: Sam is a certified trainer.", True),
                 ("Share this on your favourite network.", True)],
    "end-related": [("Related posts", True), ("Sources:", True),
                    ("Continue Learning about Back Exercises", True)],
    "aside-partner": [("Communicate with your partner throughout the stretch.", True)],
    "heading-generic": [("Exercise 1", ""), ("Exercise #2 - Low Back Stretches",
                                             "Low Back Stretches"),
                        ("Stretch 3: Butterfly", "Butterfly")],
    "heading-lettered": [("A. Reclining Hip Stretch -", "Reclining Hip Stretch -"),
                         ("1.) Cat Stretch", "Cat Stretch")],
    "heading-name-colon": [("Knee hug: Lie on your back and pull both knees in.", "Knee hug"),
                           ("Cat stretch - Start on your hands and knees.", "Cat stretch")],
    "exercise-word": [("Reclining Hip Stretch", True), ("Happy Baby", True), ("Cat Cow", True)],
    "not-exercise": [("Self-Assessment Of Lower Back Pain Stretches", True),
                     ("More About this Book", True)],
    "first-person": [("I recommend you go to the main page first.", True),
                     ("Here's what we're going to do.", True)],
    "second-person": [("You should feel this in your hip.", True)],
    "filler": [("Now, gently pull your knee in.", True),
               ("While keeping your legs straight, stand tall.", True)],
    "hold-context": [("Stay in this position for about 5 minutes.", True),
                     ("Take 6 slow breaths.", True)],
    "not-hold": [("Walk around for a couple of minutes.", True),
                 ("The routine takes about ten minutes.", True)],
    "named-list": [("Static stretches like kneeling hip flexor stretch and t stretch will "
                    "relax the area.", True)],
    "side-word": [("Place your right foot on the step.", True)],
    "side-talk": [("Roll over and repeat with the other leg.", True),
                  ("Then go back to the first side.", True)],
    "frequency-context": [("Do these stretches twice a day.", True)],
    "sensation": [("You should feel this at the back of the thigh.", True)],
    "return": [("Then lower down slowly.", True), ("Now slowly come back up.", True)],
    "breath-move": [("Breathe out and round your back.", True),
                    ("As you inhale, lift your head.", True)],
    "reword-filler": [("So, take the cushions off the couch.", "take the cushions off the couch."),
                      ("Remember, keep your knees bent.", "keep your knees bent."),
                      ("As with any back exercise, go gently.", "go gently.")],
    "reword-recommend": [("I recommend you do them in this order.", "do them in this order.")],
    "reword-want-to": [("You want to make sure you have support.", "make sure you have support.")],
    "reword-performed": [("This stretch is performed on the floor.",
                          "Do this stretch on the floor.")],
    "reword-starting": [("Starting in a standing position, drop your head.",
                         "Start in a standing position, drop your head.")],
    "reword-begin-laying": [("Begin laying flat on your back.", "Begin lying flat on your back.")],
}


def test_every_row_has_examples():
    assert set(EXAMPLES) == {row.id for row in rules.RULES}
    assert {row.field for row in rules.RULES} == set(rules.FIELDS)
    assert len({row.id for row in rules.RULES}) == len(rules.RULES)


@pytest.mark.parametrize("row", rules.RULES, ids=lambda row: row.id)
def test_row(row):
    for sentence, value in EXAMPLES[row.id]:
        if row.field == "reword":
            assert rules.reword(sentence) == value, sentence
            continue
        found = rules.first(row.field, sentence) if row.field not in ("hold", "reps", "sets") \
            else next(iter(rules.find(row.field, sentence)), None)
        assert found is not None, f"{row.id}: nothing found in {sentence!r}"
        assert found.rule.id == row.id, f"{sentence!r} read by {found.rule.id}, not {row.id}"
        assert found.value == value, sentence


@pytest.mark.parametrize("sentence, field", [
    ("Walk around for a couple of minutes.", "reps"),
    ("Cross one leg over the other.", "sides"),
    ("Go in the opposite direction, arching your back.", "sides"),
    ("Lift your head toward the ceiling.", "equipment"),
    ("Take a few steps around the room.", "equipment"),
    ("Your abdominal wall should stay firm.", "equipment"),
    ("You'll be more flexible every day.", "reps"),
    ("You'll be more flexible every day.", "frequency-context"),
    ("Your hamstrings are the muscles at the back of your thighs.", "sensation"),
    ("Kneel on the mat.", "first-person"),
    ("Take a few steps around the room.", "reps"),
    ("Do 3 sets of 30 seconds.", "reps"),
])
def test_what_rows_do_not_read(sentence, field):
    assert rules.first(field, sentence) is None
