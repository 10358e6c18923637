"""The crisis detector's rule data: word sets, phrase rules, misspellings and split words.

Kept apart from the matcher in :mod:`qa.safety`, so the rules read as a table that reviewers can
check and extend without touching the matching code. The notation is explained where the rules
begin; :func:`qa.safety.detect_crisis` compiles them once.
"""

from __future__ import annotations

# --- Word sets used by the rules ("@NAME"). "_" joins the words of a multi-word alternative. ---

SETS = {
    "SELF": "myself my_self meself",
    # Someone else at risk: the same resources serve a friend or a parent who is worried.
    "OTHER": "himself herself themselves themself yourself urself",
    "KILL": "kill kills killing killed",
    # A wish, an intent or a plan.
    "VOL": "want wants wanted wanting wanna wish wishes wished wishing hope hoping ready deserve "
    "deserves rather prefer long longing tempted decided deciding plan plans planning planned "
    "try trying tried going gonna need needs should let urge urges thinking considering "
    "contemplating intend intending pray praying like",
    # Small words a gap "~N" may hold: pronouns, auxiliaries, adverbs; no articles, so that
    # "considering the death rate" is not "considering death".
    "FILL": "to i id im ive ill me my myself just could would should can might may will was "
    "were be been had have so really honestly simply already finally badly now tonight today "
    "literally seriously sometimes often kinda kind of sort all go and lay lie fall asleep "
    "sleep actually truly still even soon rather well only for is am left way far much more "
    "totally completely about like",
    # What a gap "~N:DET" may hold: determiners and quantities ("a whole bottle of his").
    "DET": "a an the my his her their your our this that whole entire full half rest some of "
    "all every like",
    "DIE": "die death be_gone was_gone were_gone be_dead was_dead were_dead been_dead disappear "
    "vanish not_exist stop_existing stop_living stop_breathing cease_to_exist never_existed "
    "never_been_born never_born wasnt_born werent_born didnt_exist not_be_alive wasnt_alive "
    "not_be_here not_be_around sleep_forever not_wake_up never_wake_up",
    "DYEOBJ": "my your his her its their our the a an it them this that these those some hair "
    "clothes clothing shirt shirts jeans fabric eggs yarn wool cloth black blonde blond brown "
    "red blue pink purple green color colour",
    "NEG": "dont do_not doesnt does_not didnt did_not not no_longer never wont can_not",
    "CANT": "can_not unable_to couldnt",
    "HURT": "hurt hurting hurts harm harming cut cutting cuts burn burning burned burnt injure "
    "injuring mutilate mutilating punish punishing hit hitting punch punching starve starving "
    "bruise bruising carve carving stab stabbing",
    "ACCIDENT": "off up out short loose free shaving cooking accidentally by_accident on_a "
    "on_some on_paper on_glass in_the_kitchen at_the_gym at_work lifting working_out playing "
    "running skiing falling chopping",
    "BODY": "arm arms wrist wrists thigh thighs leg legs skin stomach hip hips body",
    "TAKE": "take taking took taken swallow swallowed swallowing pop popped popping downed "
    "snort snorted snorting inject injected injecting use used using dose dosed dosing",
    "TOOK": "took taken swallowed swallowing downed popped chugged snorted injected",
    "PILLS": "pills pill tablets tablet meds med medication medications medicine medicines "
    "prescription prescriptions drugs ketamine sleeping_pills painkillers opioids opiates "
    "benzos xanax tylenol paracetamol acetaminophen insulin antidepressants capsules "
    "lozenges bottle bottles supply stash dose doses",
    "MANY": "lots loads bunch dozens dozen ton tons pile mouthful handful fistful bottle bottles "
    "ten twenty thirty forty fifty hundred hundreds",
    "ATONCE": "at_once together at_the_same_time in_one_go tonight now to so and in_the_house "
    "in_the_cabinet in_the_drawer in_the_bathroom in_my_cabinet in_the_bottle i_have i_had "
    "i_can_find i_could_find i_can_get",
    "SPAN": "time effort energy long space room money work of_my_time attention care "
    "seriously personally to_heart notice pressure risk risks stress notes damage",
    "LIVE": "live living life exist existing go_on going_on be_alive being_alive be_here "
    "keep_living keep_going stay_alive staying_alive carry_on carrying_on wake_up waking_up "
    "trying",
    "LONGER": "anymore any_more any_longer much_longer like_this",
}

# --- The rules, by category. One rule is a sequence of slots separated by spaces: -----------
# "a|b" one of these tokens; "a|b?" optional; "@SET" any word of a set; "~N" up to N FILL words;
# "~N:SET" up to N words of SET; "*N" up to N words of any kind; "!a|b" not followed by these;
# "$" (as an alternative) the end of the sentence or text; "#" a number of ten or more.
# A rule that starts with "+" asks about lethal means (a lethal dose, a way to die): the chat
# then shows the crisis resources without any passage, whoever the question is about. A rule
# that starts with "?" is a topic word ("suicidal", "overdose") that a question may be about:
# if nothing else matches and the text neither speaks in the first person nor of a feeling
# ("feeling suicidal"), passages follow the resources.

RULES = {
    "suicide": [
        "?suicide|suicidal|suicides|suicidality|suicidally|unalive|unalived|unaliving|sewer_slide",
        "@KILL ~2 @SELF|@OTHER",
        "@VOL|please|pls|plz|someone|somebody|just *3 kill|end me",
        "@VOL ~2 off @SELF|@OTHER",
        "end|ending|ended|take|taking|took|taken my|this|own|his|her|their own? life|lives "
        "!back|in|to|into|forward|further|seriously",
        "@VOL ~2 end|ending it|things|everything|myself !with|between",
        "end|ending|ended it_all|everything|things|myself !with|between",
        "talk|talks|talking|talked|thinking|thinks|thought about ending it|things|everything $",
        "me @VOL kill",

        "bleed|bleeding|bled out",
        "noose|nooses",
        "have|made|got|making ~1:DET plan $|to_die|to_end_it|to_kill_myself",
        "rope|gun|knife ready|loaded|tied $|and|now|tonight",
        "+painless|painlessly|easiest|quickest|peaceful|peacefully|fastest|least_painful|quick|"
        "quietly *2 way|ways|method|methods to go $",
        "+way|ways|method|methods|how|means|easiest|painless|quickest|fastest *3 to "
        "die|kill_myself|end_it|end_my_life|commit_suicide",
        "hang|hanging|hanged|shoot|shooting|drown|drowning|poison|poisoning|gas|suffocate|"
        "suffocating|strangle|strangling|electrocute|overdose ~1 @SELF !in_the_foot",
        "throw|throwing|jump|jumping|jumped|leap|leaping off|from|in_front_of|into ~2:DET "
        "bridge|building|roof|rooftop|cliff|balcony|train|traffic|tower|window|bus|truck|"
        "overpass|ledge|highway|tracks|subway",
        "slit|slitting|slice|slicing|cut|cutting|open ~1 my|me? wrist|wrists|throat|veins",
        "drink|drinking|drank|drug|drugging|starve|starving|bleed|bleeding ~1 @SELF to death",
        "drive|driving|drove|crash|crashing|steer|swerve ~3:DET car|myself into|off *2 "
        "wall|tree|traffic|cliff|truck|river|lake|pole|ocean|oncoming",
    ],
    "self_harm": [
        "?self harm|harming|harmed|harms|harmer|injury|injuries|injure|injuring|injured|"
        "injurious|mutilation|mutilate|mutilating|mutilated|hurt|hurting|cutting|cutter",
        "@HURT ~1 @SELF|@OTHER !@ACCIDENT",
        "cut|cutting|cuts|carve|carving|carved|slash|slashing|slashed ~1 my|me? @BODY !@ACCIDENT",
        "urge|urges|relapse|relapsed|relapsing|started|start|keep|kept|stop|stopped|quit|"
        "quitting|addicted|habit|back_to ~2 cut|cutting|self_harm|sh again|anymore|$",
        "cutting|cut|sh again|scars",
        "relapse|relapsed|relapsing ~2 cut|cutting|self_harm|sh|burned|hurt !back|down|out|off",
        "make|made|making|let @SELF bleed|suffer|hurt",
        "until|till|til *1 bleed|bleeds|bled|bleeding",
        "razor|razors|blade|blades *6 cutting|myself|self_harm|wrists|arms|thighs",
        "burn|burning|burned|burnt|burns *4 lighter|lighters|cigarette|cigarettes",
        "want|wanna|wish|urge|urges|need ~2 bleed",
    ],
    "overdose": [
        "?overdose|overdosed|overdoses|overdosing|overdosage",
        "a|an overdoes",
        "overdoes of|on",
        "wont|isnt|stopped wake_up|waking_up|breathing $|and|now",
        "not breathing $|and|now",
        "mix|mixed|mixing|combine|combined|combining|with *4 too many|much ~2 "
        "@PILLS|alcohol|booze|drinks",
        "@TAKE ~2 too many|much !@SPAN",
        "@TOOK ~3:DET bottle|bottles|handful|fistful|stash|supply|mouthful",
        "@VOL ~2 @TAKE ~3:DET bottle|bottles|handful|fistful|stash|supply",
        "@TAKE ~1 all|every|rest ~2:DET @PILLS @ATONCE|$",
        "@TOOK ~2:DET @MANY|# ~2:DET @PILLS",
        "+ldso",  # "LD50" as the leetspeak reading of the matcher spells it
        "+ld 50",
        "+stop|stops|stopping your|my|his|her|their|someones|a heart|breathing",
        "+lethal|fatal|deadly|toxic|killing|suicidal dose|doses|amount|amounts|quantity|"
        "overdose|dosage|level",
        "+how_many|how_much *4 kill|killed me|you|someone|somebody|a_person|people|myself",
        "+how_many|how_much *4 die|lethal|fatal|overdose",
        "+take|takes to kill|killed me|myself|someone|somebody|a_person",
        "@TAKE *5 on_purpose|deliberately|intentionally|purposely",
        "@TOOK ~1:DET double|triple|quadruple|twice|three_times ~1:DET dose|doses|amount",
        "stockpile|stockpiling|stockpiled|hoard|hoarding|hoarded|stash|stashing ~2:DET @PILLS",
        "@PILLS ready|lined_up|counted|counted_out|saved_up $|and|now|tonight",
        "+@PILLS *4 lethal|fatal|deadly",
        "+enough *3 to die|kill_myself|kill_me|end_it|end_my_life|overdose",
        "@PILLS|alcohol *3 to die|end_it|end_my_life|kill_myself|never_wake_up",
    ],
    "wish_to_die": [
        "@VOL ~3 @DIE !hard",
        "ich will|mochte|moechte ~1 die",  # German "ich will sterben"
        "no want ~1 live|die",  # Spanish "no quiero vivir"
        "burden to|on everyone|everybody|my_family|them|others|you|all",
        "no way out $|and|but|of_this|anymore",
        "@VOL ~3 dye !@DYEOBJ",
        "feel|felt|feeling|feels like ~1 dying|die|disappearing",
        "feel|felt|feeling like ~1 giving_up $|on_life|on_everything",
        "better|happier off? ~2 dead|gone|without_me|without_us|not_existing|not_alive|"
        "not_being_alive|not_being_here|not_here",
        "better|happier|easier off? ~2 if_i|if_im|when_i|when_im *3 dead|gone|died|disappeared|"
        "wasnt_here|wasnt_around|werent_here|werent_around|never_existed|never_born|"
        "didnt_exist|not_here|not_around",
        "miss|care|notice|cry|matter|relieved|mourn *4 if|when i|im *2 "
        "died|dead|gone|disappeared|killed_myself !for",
        "@NEG want|wanna|wish|feel_like ~1 to? live|exist|be_alive|wake_up|stay_alive|"
        "keep_living|survive|breathe",
        "@NEG want|wanna|wish|feel_like ~1 to? be_here|be_around|exist|go_on|keep_going|"
        "carry_on $|@LONGER|now|tomorrow|at_all|in_this_world|on_this_earth|on_earth|either|"
        "living|without",
        "no|nothing|not_any|zero|lost_my|lost_the|lost_all|dont_have_a|dont_have_any ~1 "
        "reason|reasons|point|purpose|will|desire|motivation ~1 to|in|for|of ~2 @LIVE",
        "see|find|whats|what_is|there_is_no|theres_no ~1:DET point|purpose|reason ~1 to|in|of "
        "~1 @LIVE|anything|it_all",
        "the|no|any point|reason|purpose anymore|any_more",
        "want|wanna out $",
        "nothing ~2 live_for|living_for",
        "not|isnt|aint|no_longer|never worth living|being_alive|staying_alive",
        "life|living|existence ~3 not|isnt|aint worth ~1 it|living",
        "tired|sick|exhausted|weary|done|fed_up of|with ~1 living|life|being_alive|existing|"
        "it_all|this_life|my_life",
        "tired|sick|exhausted|done|fed_up of|with everything $",
        "@CANT ~2 go_on|keep_going|carry_on|keep_living $|@LONGER|living",
        "@CANT ~2 do_this|take_it|take_this|handle_it|handle_this|handle_life|cope|bear_it|"
        "stand_it|stand_this ~1 anymore|any_more|any_longer",
        "@CANT ~2 live_like_this|face_another_day|live_anymore|be_alive|stand_being_alive",
        "@NEG ~1 think|know|believe|see_how ~2 can|could|will|how ~1 go_on|keep_going|carry_on|"
        "keep_living|survive|make_it|last $|@LONGER|living|another_day",
        "why|what_for ~3 keep_living|go_on|keep_going|stay_alive|be_alive|bother_living|live|"
        "carry_on $|@LONGER",
        "sleep|asleep|bed *3 never|not|dont|wont|didnt ~1 wake_up",
        "@VOL *3 never|not|dont|wouldnt|didnt|wont wake_up !during|in_the_middle|mid|from",
        "never|not wake_up again|ever|$",
        "sleep|asleep forever|permanently|for_good",
        "@VOL ~1 it_all|everything|all_of_this|my_life|this_life ~1 to? end|stop|be_over|over",
        "want|wanted|wanna|wish it ~1 to end|be_over $|now|already|forever|for_good|tonight|"
        "so_badly",
        "hate|hating|hated ~1 my_life|being_alive|living|existing",
        "give|giving|gave|given up ~1 on life|living|everything",
        "goodbye|bye|farewell cruel_world|forever|everyone_forever",
        "this_is|final|last|my goodbye|goodbyes",
        "said|saying|say my goodbyes",
        "said|saying|say goodbye to? everyone|everybody|the_world|this_world|life|forever",
        "letter|letters|note|notes *5 goodbye|goodbyes",
        "think|thinking|thought|thoughts|obsessed|obsessing|fantasize|fantasizing|dream|"
        "dreaming about|of ~1 dying|death|being_dead|not_existing|not_being_alive|disappearing",
        "wont|will_not|not_going_to|not_gonna|might_not|may_not ~1 be here|around|alive "
        "for_much_longer|for_long|@LONGER",
    ],
}

# --- Spelling data: raw tokens to the canonical words the rules are written in. -------------


def _pairs(spec: str) -> dict[str, str]:
    return dict(pair.split("=") for pair in spec.split())


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


# Misspellings that the general mechanisms below do not reach (short words, two edits, slang).
TYPOS = _pairs(
    """kil=kill kll=kill klil=kill killin=killing kilin=killing sueside=suicide suiside=suicide
    suecide=suicide suside=suicide sewerslide=suicide suicidial=suicidal sucidal=suicidal
    od=overdose oded=overdosed odeed=overdosed oding=overdosing odeing=overdosing
    odin=overdosing ods=overdoses wnat=want wnt=want wan=want wamt=want watn=want wabt=want
    wantt=want wana=wanna wann=wanna wanan=wanna dnt=dont dotn=dont domt=dont didint=didnt
    cnat=can_not cnt=can_not doesent=doesnt dosnt=doesnt dosent=doesnt slef=self sefl=self
    slf=self selv=self pillz=pills pilz=pills pils=pills medz=meds livin=living liveing=living
    liv=live lyfe=life lif=life ded=dead dieing=dying dyeing=dying dyin=dying reson=reason
    reasn=reason raeson=reason pont=point poin=point anymor=anymore nomore=anymore alvie=alive
    aliv=alive hrut=hurt hurtin=hurting cuttin=cutting cuting=cutting endin=ending tierd=tired
    tird=tired u=you ur=your 2=to b=be r=are wit=with wiht=with witout=without
    everone=everyone evryone=everyone noone=no_one nothin=nothing gonan=gonna goin=going
    tryin=trying plannin=planning"""
)

# A few words of other languages visitors write in; French "suicider" is one edit from
# "suicide" already. Spanish: "quiero suicidarme", "me quiero morir", "quiero matarme";
# German and Italian: "Suizid", "Selbstmord", "suicidio".
TYPOS |= _pairs(
    """suicidarme=suicide_myself suicidarse=suicide suicidarte=suicide suicidio=suicide
    suizid=suicide suizidal=suicidal selbstmord=suicide selbstmordgedanken=suicide
    suizidgedanken=suicide matarme=kill_myself matar=kill quiero=want morir=die morirme=die
    vivir=live sterben=die"""
)

# Words written as one that the rules read as several.
SPLITS = _pairs(
    """selfharm=self_harm selfharming=self_harming selfinjury=self_injury
    killmyself=kill_myself kms=kill_myself kys=kill_yourself wanttodie=want_to_die
    wannadie=wanna_die endmylife=end_my_life wanto=want_to cannot=can_not cant=can_not"""
)

# Long keywords corrected at one edit. Checked against an English word list (wamerican): none
# has an English word one edit away, except those in NOT_TYPOS ("overdone" is not "overdose").
FUZZY = _words(
    "suicide suicidal suicides overdose overdosed overdoses overdosing myself selfharm "
    "selfharming anymore without everyone disappear unalive"
)
# Also real words whose doubled letters, squeezed, spell a rule word ("son" is not "soon").
NOT_TYPOS = _words("overdone overdoes overdoing overdue god son nose noses")
