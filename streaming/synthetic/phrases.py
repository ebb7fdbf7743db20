"""Wording of the synthetic posts and articles: templates, outlets and names.

Templates are ``str.format`` strings. Posts use ``{ap}`` (how people name the airport),
``{tag}`` (its hashtag), ``{delay}`` (e.g. ``2 hours``), ``{n}`` (a count), ``{dest}`` and
``{wind}`` (km/h). Articles use ``{name}`` (the airport's name in print), ``{ops}`` (a
sentence of what the flight record shows), ``{temp}``, ``{wind}``, ``{hazard}`` and
``{Hazard}`` (e.g. ``heavy snow``), ``{flight}``, ``{origin}`` and ``{dest}``.

News wording carries its category in plain words a keyword or NLP classifier can learn:
*weather* (snow, storm, fog, wind, rain), *labour* (strike, walkout, union, staffing),
*unrest* (protest, demonstrators, police), *closure* (ground stop, closed, shut) and
*accident* (accident, crash, collision, emergency landing). Generic delay stories and
decoys (off-topic stories that use the same words) keep such a classifier honest.
"""

from __future__ import annotations

from typing import Literal

NewsCategory = Literal["weather", "labour", "unrest", "closure", "accident"]

#: How people write the three New York hubs (other facilities go by their code).
ALIASES: dict[str, tuple[str, ...]] = {
    "JFK": ("JFK", "JFK", "JFK Airport", "Kennedy Airport"),
    "EWR": ("EWR", "Newark", "Newark Airport", "Newark Liberty"),
    "LGA": ("LGA", "LaGuardia", "LaGuardia", "LaGuardia Airport"),
}
#: How the press names them.
PRINT_NAMES: dict[str, str] = {
    "JFK": "John F. Kennedy International Airport",
    "EWR": "Newark Liberty International Airport",
    "LGA": "LaGuardia Airport",
}
#: Places travellers mention on the way out.
DESTINATIONS = ("ORD", "LAX", "ATL", "MIA", "BOS", "SFO", "DFW", "DEN", "MCO", "SEA")

#: Fictional outlets (name, URL slug) on the reserved ``example.invalid`` domain.
OUTLETS: tuple[tuple[str, str], ...] = (
    ("Example Freight Wire (synthetic)", "example-freight-wire"),
    ("Placeholder Metro Tribune (synthetic)", "placeholder-metro-tribune"),
    ("Fictional Skies Daily (synthetic)", "fictional-skies-daily"),
    ("Imaginary Logistics Journal (synthetic)", "imaginary-logistics-journal"),
)
NEWS_HOST = "https://news.example.invalid"

CHATTER = (
    "Boarding now at {ap}. See you on the other side!",
    "Security line at {ap} moving fast this morning",
    "Grabbing coffee at {ap} before my flight to {dest}",
    "Smooth check-in at {ap}, friendly staff today",
    "On time departure from {ap} for once :)",
    "Long walk to the gate at {ap} but made it",
    "Watching planes take off at {ap}, never gets old",
    "Anyone know if the lounge at {ap} has showers?",
    "Landed at {ap}, waiting for bags now",
    "Heading to {dest} from {ap}, window seat secured {tag}",
)
WEATHER_POSTS: dict[str, tuple[str, ...]] = {
    "snow": (
        "Snow coming down hard at {ap}, de-icing line is endless",
        "Stuck at {ap}, snow everywhere and no updates {tag}",
        "Heavy snow at {ap}. Pretty sure nothing is leaving tonight",
        "{ap} runways are white, worried we will never take off #snow",
    ),
    "rain": (
        "Pouring rain at {ap}, ground crews soaked and we are still waiting",
        "Heavy rain at {ap}, delays piling up {tag}",
        "Miserable wet day at {ap}, everything running late",
    ),
    "storm": (
        "Thunderstorms over {ap}, pilot says we are holding at the gate",
        "Wild storm at {ap}, lightning and everything grounded {tag}",
        "This storm at {ap} is terrible, winds howling at {wind} km/h",
    ),
    "fog": (
        "Cannot even see the runway from the gate at {ap}, thick fog",
        "Fog at {ap} so bad flights are being held {tag}",
        "Dense fog at {ap}, departures stuck, no idea when we leave",
    ),
    "wind": (
        "Crazy wind at {ap}, rough takeoff and half the board delayed",
        "Gusts at {ap} shaking the jet bridge, scary stuff {tag}",
        "{wind} km/h winds at {ap}, my flight keeps getting pushed back",
    ),
}
UPBEAT_WEATHER: dict[str, tuple[str, ...]] = {
    "snow": ("Snow at {ap} looks beautiful from the gate window", "First snow of the year at {ap}, love it {tag}"),
    "rain": ("Love a cozy rainy afternoon at {ap} with a good book",),
    "storm": ("Amazing lightning show over {ap} tonight, stunning {tag}",),
    "fog": ("Fog rolling over {ap} is honestly gorgeous {tag}",),
    "wind": ("Windy day at {ap}, great for plane spotting, love the crosswind landings!",),
}
DELAY_POSTS = (
    "Delayed {delay} at {ap} and counting. Terrible.",
    "{ap} is a mess right now, every flight delayed {tag}",
    "Another {delay} delay at {ap}. I hate this airport",
    "Gate agent at {ap} just said {delay} more. Awful communication",
    "Been stuck at {ap} for {delay}, no info, so frustrated",
)
CANCEL_POSTS = (
    "Flight cancelled at {ap}. Rebooking line wraps around the terminal",
    "{n} cancellations on the board at {ap}. Stranded. {tag}",
    "Cancelled again at {ap}, worst trip ever",
    "Ground stop at {ap}?? Nobody is going anywhere",
)
SARCASTIC_POSTS = (
    "Great, another {delay} delay at {ap}. Love it here!",
    "Wonderful, cancelled at {ap}. Best day ever lol",
    "Thanks {ap}, I always wanted to spend the night at the gate :)",
)
ARRIVAL_POSTS = (
    "Finally landed at {ap}, {delay} late. Missed my connection",
    "Arrived {ap} {delay} behind schedule, exhausted and angry",
    "Sitting on the tarmac at {ap} waiting for a gate, {delay} late already",
)
FALSE_ALARMS = (
    "Why is it always delayed at {ap}",
    "Someone said flights are cancelled at {ap}? Board looks fine though",
    "Bad feeling about my connection at {ap} today",
    "Rumor: ground crews at {ap} walking out? Anyone?",
)
INCIDENT_POSTS: dict[str, tuple[str, ...]] = {
    "labour": (
        "Ground crews at {ap} picketing, agents say there is a strike",
        "Staff shortage at {ap}, union workers walked off {tag}",
    ),
    "unrest": (
        "Big protest outside {ap} terminal, police everywhere",
        "Demonstrators blocking the road to {ap}, allow extra time {tag}",
    ),
    "closure": (
        "{ap} terminal closed, security evacuation, chaos",
        "Runway closed at {ap}, pilot says we are waiting {tag}",
    ),
    "accident": (
        "Crash on the road to {ap}, traffic backed up for miles",
        "Emergency vehicles all over the runway at {ap}, something bad happened",
    ),
}
DIVERTED_POSTS = ("Our flight to {dest} just diverted, scary landing. {tag}", "Diverted on the way to {dest}, no info")
OFFTOPIC_POSTS = (
    "Anyone know a good pizza place in Brooklyn?",
    "Brainstorm session went great today, team is on fire",
    "Traffic on the BQE is terrible again",
    "Lost my umbrella on the subway, great start to the week",
    "Storm trooper costume finished for the con!",
    "Our team strikes again, what a game last night",
    "Finally finished that book everyone was talking about",
    "Coffee shop on 5th has the best croissants, trust me",
    "Gym was packed today, new year resolutions I guess",
    "Power nap before the meeting, wish me luck",
)

NEWS: dict[NewsCategory, tuple[tuple[str, str], ...]] = {
    "weather": (
        (
            "Flights snarled by {hazard} at {name}",
            "{Hazard} hit {name}, slowing the airfield. {ops} Temperature {temp} C, winds {wind} km/h.",
        ),
        (
            "Travellers stranded at {name} amid {hazard}",
            "Airlines at {name} cut flights as {hazard} kept de-icing and ground crews busy. {ops}",
        ),
    ),
    "labour": (
        (
            "Ground crew walkout slows departures at {name}",
            "Union ground workers walked off the job at {name} in a "
            "pay dispute. Strike organisers said the labor action would continue. {ops}",
        ),
        (
            "Staffing shortage and strike threat hit {name}",
            "A shortage of workers and a looming union strike left {name} short-staffed. {ops}",
        ),
    ),
    "unrest": (
        (
            "Protest near {name} terminals disrupts access",
            "Demonstrators rallied outside {name} and police closed "
            "an access road as the protest grew. Travellers were told to allow extra time. {ops}",
        ),
        (
            "Police clear demonstrators at {name}",
            "Unrest at {name} as hundreds of protesters gathered at the terminals; police made arrests. {ops}",
        ),
    ),
    "closure": (
        (
            "Ground stop halts departures at {name}",
            "Authorities ordered a ground stop at {name}; the airport was effectively closed to departures. {ops}",
        ),
        (
            "{name} shut as runway closure strands flights",
            "A runway closure shut down most operations at {name}. Officials did not say when it would reopen. {ops}",
        ),
    ),
    "accident": (
        (
            "Emergency landing: flight {flight} diverted",
            "Flight {flight} from {origin} to {dest} made an emergency "
            "landing after an in-flight incident, officials said. The accident is under investigation.",
        ),
        (
            "Ground collision under investigation at {name}",
            "Two vehicles collided near a gate at {name}; crash "
            "crews responded and the accident is under investigation. {ops}",
        ),
    ),
}
GENERIC_DELAYS = (
    ("Delays pile up at {name}", "Flights at {name} are running late and airlines gave no reason. {ops}"),
    ("Long waits for travellers at {name}", "Departure boards at {name} filled with late flights. {ops}"),
)
ARRIVAL_DELAYS = (
    ("Late arrivals back up at {name}", "Flights into {name} are landing well behind schedule. {ops}"),
    ("Inbound flights run late at {name}", "Travellers arriving at {name} faced long delays. {ops}"),
)
RESUMED = (
    ("Flights resume at {name}", "Operations at {name} returned to normal schedules after the disruption."),
    ("{name} back on schedule", "Airlines at {name} said departures were running normally again."),
)
OFFTOPIC_NEWS = (
    ("City council approves new bike lanes", "The council voted to add protected bike lanes across three boroughs."),
    ("Museum unveils winter exhibition", "A new exhibition of modern sculpture opens to the public this week."),
    ("Local bakery wins regional award", "The family-run bakery took first prize for its rye bread."),
    ("School board debates later start times", "Parents and teachers weighed in at a packed meeting."),
    ("Transit authority unveils new fare cards", "Riders can now tap to pay on every subway line."),
)
DECOY_NEWS = (
    ("Union Square holiday market opens", "Vendors set up stalls in Union Square for the season's market."),
    ("Storm the court: college basketball preview", "Our preview of the season's top teams and players."),
    ("Strike a pose: fashion week returns", "Designers showed spring collections on runways across Manhattan."),
    ("Brainstorm: startups pitch logistics ideas", "Founders pitched freight software at a demo night."),
    ("Comedy club closes after 30 years", "The beloved venue shut its doors with a final sold-out show."),
)
HAZARD_WORDS: dict[str, str] = {
    "snow": "heavy snow",
    "rain": "heavy rain",
    "storm": "a severe storm",
    "fog": "dense fog",
    "wind": "high winds",
    "clear": "bad weather",
}
