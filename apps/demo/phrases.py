"""Multilingual phrase bank for demo data.

Pure data plus a few tiny helpers, used by the demo-data generator to compose realistic customer messages
(social posts, DMs, emails, reviews, chat lines) addressed to brands. All text here is original.

Templates use ``str.format`` placeholders:

* ``{brand}``      brand name, e.g. "Nimbus Mobile"
* ``{handle}``     brand handle, e.g. "@nimbusmobile"
* ``{product}``    product name, e.g. "Nimbus X2"
* ``{competitor}`` a competitor brand name
* ``{days}``       a small integer
* ``{order}``      an order number like "A-10293"

Agent replies may use ``{first_name}`` and ``{brand}``. No Django imports on purpose.
"""

from __future__ import annotations

import random
import re
import string

LANGUAGES = ["en", "es", "ar", "id", "ru", "zh", "fr", "de", "pt"]

INTENTS = [
    "complaint",
    "question",
    "praise",
    "purchase_intent",
    "feature_request",
    "churn_risk",
    "spam",
    "other",
]

SENTIMENT_OF_INTENT: dict[str, str] = {
    "complaint": "negative",
    "question": "neutral",
    "praise": "positive",
    "purchase_intent": "positive",
    "feature_request": "neutral",
    "churn_risk": "negative",
    "spam": "neutral",
    "other": "neutral",
}

#: Placeholders allowed in TEMPLATES and SUBJECTS.
MESSAGE_PLACEHOLDERS = frozenset({"brand", "handle", "product", "competitor", "days", "order"})
#: Placeholders allowed in AGENT_REPLIES.
REPLY_PLACEHOLDERS = frozenset({"first_name", "brand"})

#: Minimum number of templates per (language, intent).
MIN_TEMPLATES = {lang: (12 if lang in ("en", "es") else 8) for lang in LANGUAGES}

DEFAULT_BRAND = "Nimbus Mobile"
DEFAULT_COMPETITORS = ["Orbit Wireless", "Vega Telecom", "Kestrel", "Lumen One", "Altair Connect"]

# ---------------------------------------------------------------------------------------------------------
# English
# ---------------------------------------------------------------------------------------------------------
_EN: dict[str, list[str]] = {
    "complaint": [
        "{handle} my {product} died again after {days} days. Third replacement. Unacceptable.",
        (
            "Been on hold with {brand} support for over an hour and still nobody can tell me where "
            "order {order} is 😤"
        ),
        (
            "Dear {brand} Customer Care, I am writing to formally complain about order {order}. It "
            "arrived {days} days late and the box was visibly damaged. I expect a full refund or a "
            "replacement at no extra cost."
        ),
        "wow {handle} charged me twice this month and nobody can explain why #fail",
        "Ever since the last update my {product} lags constantly and the battery is dead by lunchtime.",
        "1 star. The {product} stopped working within a week and the return process is a nightmare.",
        "Your app keeps logging me out. Every. Single. Time. Fix it {handle}",
        "Ordered {days} days ago, tracking hasn't moved since. Order {order}. Anyone awake at {brand}?",
        (
            "I was promised a callback twice and never got one. Honestly, {competitor} never treated "
            "me like this."
        ),
        (
            "Hi, the {product} I received is the wrong color and the charger is missing from the box. "
            "Please advise how to get this sorted."
        ),
        "Paying for premium and getting worse service than the free tier. Seriously disappointed, {brand}.",
        "rude agent on the phone today, hung up on me mid-sentence. not ok {handle}",
        "Third time writing about this. Order {order} still says 'processing'. Please escalate.",
    ],
    "question": [
        "Does the {product} support wireless charging?",
        "{handle} quick q: can I still change the delivery address on order {order}?",
        (
            "Hello, could you tell me whether the {product} comes with an international warranty? I'm "
            "moving abroad in {days} days."
        ),
        "What are your store hours this weekend?",
        "Is there a student discount at {brand}? 🙏",
        "How long does a refund usually take to show up on my card?",
        "Hi {brand}, will my old accessories work with the {product} or do I need new ones?",
        "do you guys ship internationally or only domestic?",
        (
            "Good afternoon. I'd like to transfer my account to a family member. Is there a form for "
            "that, or do we both need to visit a store?"
        ),
        "Where can I download the invoice for order {order}?",
        "Can I pay for the {product} in monthly installments?",
        (
            "{handle} what's the actual difference between the {product} and the Pro version? Worth "
            "the extra money?"
        ),
    ],
    "praise": [
        "Shoutout to {handle} support, fixed my issue in 5 minutes flat 🙌",
        "Loving my new {product}! Battery easily lasts the whole day.",
        (
            "Just wanted to say thank you to the agent who helped me yesterday. Patient, friendly, and "
            "actually solved the problem."
        ),
        "5 stars. Fast delivery, great packaging, and the {product} works perfectly.",
        "{brand} never disappoints #happycustomer",
        "Switched from {competitor} last year and haven't looked back. {brand} is just better.",
        "Order {order} showed up a day early. Impressed!",
        "the new update is 🔥 everything feels so much smoother",
        (
            "I rarely write reviews, but the {product} deserves one. Solid build, painless setup, and "
            "customer service was excellent when I had a question about billing."
        ),
        "Thanks {handle} for the super quick refund, really appreciate it.",
        "Best purchase I've made this year tbh",
        (
            "Dear {brand} team, I want to commend the staff at your downtown store, who went above and "
            "beyond to help my elderly father set up his phone. Please pass on my thanks."
        ),
    ],
    "purchase_intent": [
        "Thinking about getting the {product}. Any deals coming up?",
        "{handle} when is the {product} back in stock? Ready to buy.",
        (
            "Hi, we'd like to order 20 units of the {product} for our office. Could someone from sales "
            "contact me about volume pricing?"
        ),
        "ok I'm convinced, buying the {product} this weekend",
        "Is the {product} available in black? Want to order one today.",
        "Do you offer trade-in if I upgrade from my old phone to the {product}?",
        "Deciding between {brand} and {competitor}. What makes the {product} worth it?",
        "Can I pre-order the {product} online or only in store?",
        "Looking for a gift for my mom. Would the {product} be easy for her to use?",
        "Take my money {handle} 💸💸",
        "Will there be a Black Friday discount on the {product}? Planning to buy a couple.",
        "Good morning, please send me a quote for the {product} with the extended warranty included.",
    ],
    "feature_request": [
        "Please add dark mode to the app {handle} 🙏",
        "Would love an option to export my invoices as PDF.",
        "Suggestion: let us pause a subscription instead of cancelling it outright.",
        "The {product} is great but it really needs a headphone jack.",
        "Any plans to support Apple Pay or Google Pay at checkout?",
        "It would be super helpful if the app showed live delivery tracking for orders like {order}.",
        (
            "Dear {brand}, as a long-time customer I'd like to propose a loyalty program. {competitor} "
            "already has one and it's one of the few things I envy."
        ),
        "Can you add a family plan? Paying for 4 separate lines is a pain.",
        "Need 2FA with an authenticator app, SMS codes alone don't cut it anymore.",
        "Bring back the old widget!! The new one shows way less info",
        "Feature request: scheduled delivery windows. I'm never home during the day.",
        "Would be great if the {product} came in a smaller size, it's a bit bulky for my hand.",
    ],
    "churn_risk": [
        "Seriously considering switching to {competitor}. This is ridiculous.",
        "How do I cancel my {brand} subscription? Done with this.",
        "{competitor} is offering me half the price. Give me one reason to stay {handle}.",
        "Customer for 6 years and this is how you treat me? Cancelling at the end of the month.",
        (
            "Dear {brand}, please consider this my formal notice to terminate my contract. After "
            "{days} days of unresolved issues I no longer see any value in the service."
        ),
        "my contract ends next month and tbh {competitor} is looking pretty good right now",
        "If order {order} isn't resolved by Friday I'm filing a chargeback and taking my business elsewhere.",
        "Already ported my number to {competitor}. Bye {brand} 👋",
        "What's the early termination fee? Asking for myself.",
        "Unsubscribe me from everything. I'm closing my account.",
        "Third price hike this year. {competitor}, here I come.",
        (
            "I've loved {brand} for years, but the quality has dropped so much lately that I'm "
            "actively shopping around."
        ),
    ],
    "spam": [
        "🔥 Earn $500/day from home! DM me for details 🔥",
        "Follow me for daily giveaways!! Free followers 💯💯",
        "Congratulations! You've been selected for an exclusive reward. Claim it at prize-claim-now.example",
        "Check out my page for crypto signals 🚀🚀🚀 100x guaranteed",
        "Hey {brand}, we can boost your engagement by 300%. Cheap packages, reply for the price list.",
        "nice post 👍 check my profile",
        "Get the {product} for FREE!!! Only 50 left, click the link in bio",
        "I made $12k last month trading forex with one simple trick. Ask me how.",
        (
            "Dear Sir/Madam, We are a leading SEO agency offering top-ranking services at unbeatable "
            "rates. Kindly reply for our portfolio."
        ),
        "Win a free gift card! Just tag 3 friends and share this post 🎁",
        "Looking for investors, 40% monthly returns, zero risk. Message me now.",
        "Buy followers likes views ✅ fast delivery ✅ wholesale prices ✅",
    ],
    "other": [
        "lol the {brand} ad on TV last night was hilarious",
        "Is anyone else watching the game tonight?",
        "Just saw a {brand} billboard on my way to work. Cool design.",
        "Good morning everyone ☀️",
        "Hi, I'm a journalist working on a piece about the industry. Who handles press inquiries at {brand}?",
        (
            "Hello, I'd like to apply for the open position on your customer service team. Where "
            "should I send my CV?"
        ),
        "Sharing this for the friends who were asking.",
        "Who designed the new {brand} logo? Just curious.",
        "Happy holidays to the whole {brand} team!",
        "test",
        (
            "Our university is hosting a tech fair next month and we'd love {brand} to take part. "
            "Who's the right person to talk to?"
        ),
        "Wrong chat, sorry 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Spanish
# ---------------------------------------------------------------------------------------------------------
_ES: dict[str, list[str]] = {
    "complaint": [
        (
            "{handle} mi {product} dejó de funcionar a los {days} días. Es la tercera vez que me pasa. "
            "Vergonzoso."
        ),
        "Llevo más de una hora esperando en la línea de {brand} y nadie me resuelve nada 😡",
        (
            "Estimados señores de {brand}: les escribo para presentar una reclamación formal por el "
            "pedido {order}. Llegó con {days} días de retraso y el paquete venía dañado. Solicito el "
            "reembolso íntegro."
        ),
        "Me cobraron dos veces este mes y nadie sabe explicarme por qué #MalServicio",
        "Desde la última actualización el {product} va lentísimo y la batería no dura nada.",
        "Una estrella. El {product} falló la primera semana y la devolución es un calvario.",
        "La app me cierra la sesión cada dos por tres. Arréglenlo ya, por favor {handle}",
        "Pedido {order} sin moverse desde hace {days} días. ¿Hay alguien en {brand}?",
        "Me prometieron que me llamarían y nunca lo hicieron. Ni en {competitor} me trataron tan mal.",
        "Hola, el {product} que recibí no es del color que pedí y falta el cargador. ¿Cómo lo solucionamos?",
        "Pago el plan premium y el servicio es peor que el gratuito. Qué decepción con {brand}.",
        "El agente de hoy fue muy maleducado, me colgó a mitad de frase. Así no, {handle}.",
    ],
    "question": [
        "¿El {product} tiene carga inalámbrica?",
        "{handle} una pregunta: ¿puedo cambiar la dirección de entrega del pedido {order}?",
        (
            "Buenas tardes, quisiera saber si la garantía del {product} es válida en el extranjero. Me "
            "mudo en {days} días."
        ),
        "¿Qué horario tienen las tiendas este fin de semana?",
        "¿Hay descuento para estudiantes en {brand}? 🙏",
        "¿Cuánto suele tardar en reflejarse un reembolso en la tarjeta?",
        "Hola {brand}, ¿el {product} es compatible con los accesorios del modelo anterior?",
        "¿Hacen envíos a Canarias o solo a la península?",
        (
            "Buenos días. ¿Cómo puedo traspasar mi cuenta a un familiar? ¿Hay que rellenar algún "
            "formulario o ir a tienda?"
        ),
        "¿Dónde descargo la factura del pedido {order}?",
        "¿Se puede pagar el {product} a meses sin intereses?",
        "{handle} ¿qué diferencia hay entre el {product} y la versión Pro? ¿Vale la pena?",
    ],
    "praise": [
        "Mil gracias al equipo de {handle}, me resolvieron el problema en cinco minutos 🙌",
        "Encantada con mi {product} nuevo, la batería aguanta todo el día sin problema.",
        "Quería dar las gracias a la persona que me atendió ayer. Paciente, amable y me lo solucionó todo.",
        "Cinco estrellas. Envío rapidísimo, buen embalaje y el {product} funciona de maravilla.",
        "{brand} nunca falla #ClienteFeliz",
        "Me cambié de {competitor} el año pasado y no me arrepiento para nada. {brand} es otra cosa.",
        "El pedido {order} llegó un día antes de lo previsto. ¡Chapó!",
        "La nueva actualización va finísima 🔥",
        (
            "No suelo dejar reseñas, pero el {product} se lo merece. Bien construido, fácil de "
            "configurar y el servicio al cliente fue excelente cuando tuve una duda."
        ),
        "Gracias {handle} por el reembolso tan rápido, se agradece de verdad.",
        "La mejor compra que he hecho este año, sin duda.",
        (
            "Estimado equipo de {brand}: quiero felicitar al personal de su tienda del centro, que "
            "ayudó con muchísima paciencia a mi padre a configurar su teléfono. Trasládenles mi "
            "agradecimiento."
        ),
    ],
    "purchase_intent": [
        "Estoy pensando en comprarme el {product}. ¿Va a haber alguna oferta pronto?",
        "{handle} ¿cuándo vuelve a haber stock del {product}? Lo quiero ya.",
        (
            "Hola, nos interesa adquirir 20 unidades del {product} para la oficina. ¿Podría "
            "contactarme alguien de ventas para hablar de precios por volumen?"
        ),
        "Vale, me habéis convencido. Este finde me pillo el {product}.",
        "¿El {product} viene en negro? Quiero pedirlo hoy mismo.",
        "¿Aceptan mi móvil viejo como parte de pago si compro el {product}?",
        "Dudando entre {brand} y {competitor}. ¿Por qué debería elegir el {product}?",
        "¿Se puede reservar el {product} online o solo en tienda?",
        "Busco un regalo para mi madre, ¿el {product} es fácil de usar para alguien mayor?",
        "Tomen mi dinero {handle} 💸💸",
        "¿Habrá descuento en el {product} por el Black Friday? Pienso comprar un par.",
        "Buenos días, ¿me pueden enviar un presupuesto del {product} con la garantía extendida incluida?",
    ],
    "feature_request": [
        "Porfa, añadan modo oscuro a la app {handle} 🙏",
        "Estaría genial poder exportar las facturas en PDF.",
        "Sugerencia: dejen pausar la suscripción en vez de tener que darla de baja.",
        "El {product} está genial, pero le falta la entrada de auriculares.",
        "¿Tienen pensado aceptar Bizum como método de pago?",
        "Sería muy útil ver el seguimiento en tiempo real de pedidos como el {order}.",
        (
            "Estimados: como cliente desde hace años, les propongo crear un programa de fidelización. "
            "{competitor} ya lo tiene y es lo único que les envidio."
        ),
        "¿Para cuándo un plan familiar? Pagar cuatro líneas por separado es un rollo.",
        "Hace falta verificación en dos pasos con app, el SMS ya no es suficiente.",
        "¡Devuélvannos el widget de antes! El nuevo muestra mucha menos información.",
        "Propuesta: poder elegir franja horaria de entrega. Entre semana nunca estoy en casa.",
        "Ojalá sacaran el {product} en un tamaño más pequeño, se me hace grande en la mano.",
    ],
    "churn_risk": [
        "Me estoy planteando seriamente irme a {competitor}. Esto es de risa.",
        "¿Cómo me doy de baja de {brand}? Ya no aguanto más.",
        "{competitor} me ofrece la mitad de precio. Denme una razón para quedarme, {handle}.",
        "Seis años siendo cliente ¿y así me tratan? A fin de mes me doy de baja.",
        (
            "Estimados señores: por medio de la presente les comunico mi decisión de rescindir el "
            "contrato. Tras {days} días sin que resuelvan la incidencia, el servicio ya no me compensa."
        ),
        "se me acaba la permanencia el mes que viene y la verdad {competitor} pinta muy bien",
        (
            "Si el pedido {order} no se soluciona antes del viernes, pido la devolución al banco y me "
            "voy a otra compañía."
        ),
        "Ya hice la portabilidad a {competitor}. Chao {brand} 👋",
        "¿Cuánto es la penalización por cancelar antes de tiempo? Pregunto por mí.",
        "Quiero cerrar mi cuenta y que borren todos mis datos.",
        "Tercera subida de precio este año. {competitor}, allá voy.",
        "Llevo años con {brand}, pero la calidad ha bajado tanto que ya estoy mirando otras opciones.",
    ],
    "spam": [
        "🔥 ¡Gana 500 € al día desde casa! Escríbeme por privado 🔥",
        "Sígueme y te sigo ✅ Sorteos todos los días 💯",
        "¡Felicidades! Has sido seleccionado para un premio exclusivo. Reclámalo en premios-ya.example",
        "Señales de cripto GRATIS 🚀🚀 rentabilidad asegurada, link en mi perfil",
        "Hola {brand}, aumentamos el engagement de su marca un 300 %. Paquetes económicos, pidan tarifas.",
        "buen post 👍 pásate por mi perfil",
        "¡¡¡{product} GRATIS!!! Solo quedan 50, entra en el enlace de la bio",
        "El mes pasado gané 12.000 $ haciendo trading con un solo truco. Pregúntame cómo.",
        (
            "Estimado/a: somos una agencia SEO líder con servicios de posicionamiento a precios "
            "inmejorables. Quedamos a su disposición para enviarle nuestro portafolio."
        ),
        "¡Gana una tarjeta regalo! Etiqueta a 3 amigos y comparte esta publicación 🎁",
        "Busco inversores, 40 % de rentabilidad mensual sin riesgo. Escríbeme ya.",
        "Vendo seguidores, likes y visualizaciones ✅ entrega inmediata ✅ precios de mayorista",
    ],
    "other": [
        "jajaja el anuncio de {brand} de anoche en la tele es buenísimo",
        "¿Alguien más viendo el partido esta noche?",
        "Acabo de ver una valla publicitaria de {brand} de camino al trabajo. Qué buen diseño.",
        "Buenos días a todos ☀️",
        (
            "Hola, soy periodista y estoy preparando un reportaje sobre el sector. ¿Quién lleva la "
            "prensa en {brand}?"
        ),
        "Buenas, me gustaría postularme para la vacante de atención al cliente. ¿A dónde envío mi CV?",
        "Lo comparto para los amigos que me preguntaban.",
        "¿Quién diseñó el nuevo logo de {brand}? Pura curiosidad.",
        "¡Felices fiestas a todo el equipo de {brand}!",
        "prueba",
        (
            "Nuestra universidad organiza una feria tecnológica el mes que viene y nos encantaría "
            "contar con {brand}. ¿Con quién puedo hablar?"
        ),
        "Perdón, me equivoqué de chat 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Arabic (MSA for formal mail, Gulf-flavoured colloquial for social posts)
# ---------------------------------------------------------------------------------------------------------
_AR: dict[str, list[str]] = {
    "complaint": [
        "{handle} جهاز {product} تعطل مرة ثانية بعد {days} أيام بس! هذا شي غير مقبول",
        "صار لي ساعة على الخط مع خدمة عملاء {brand} وما أحد رد علي 😡",
        (
            "السادة في {brand} المحترمين، أتقدم بشكوى رسمية بخصوص الطلب رقم {order}، حيث وصل متأخراً "
            "{days} أيام والعلبة متضررة. أرجو استرجاع المبلغ كاملاً."
        ),
        "انخصم مني المبلغ مرتين هالشهر ومحد عارف يفسر لي السبب #خدمة_سيئة",
        "من بعد التحديث الأخير صار {product} بطيء مرة والبطارية ما تكمل نص يوم",
        "نجمة واحدة. المنتج خرب من أول أسبوع وإجراءات الإرجاع معقدة جداً.",
        "طلبي رقم {order} واقف من {days} أيام بدون أي تحديث. فيه أحد يرد؟",
        "وعدوني يتصلون فيني مرتين وما اتصل أحد. حتى {competitor} ما عاملوني بهالطريقة.",
        "الموظف اليوم كان قليل ذوق وقفل الخط في وجهي. مو مقبول يا {brand}",
    ],
    "question": [
        "هل يدعم {product} الشحن اللاسلكي؟",
        "{handle} سؤال سريع: أقدر أغير عنوان التوصيل للطلب {order}؟",
        "مساء الخير، أود الاستفسار عن ضمان {product}، هل هو ساري خارج الدولة؟ سأسافر بعد {days} أيام.",
        "كم ساعات عمل الفروع يوم الجمعة؟",
        "فيه خصم للطلاب عند {brand}؟ 🙏",
        "كم يوم يحتاج المبلغ المسترجع عشان ينزل في البطاقة؟",
        "هل ملحقات الموديل القديم تشتغل مع {product}؟",
        "وين ألقى الفاتورة حقت الطلب {order}؟",
        "هل يوجد تقسيط بدون فوائد على {product}؟",
    ],
    "praise": [
        "شكراً {handle} على سرعة الرد، انحلت مشكلتي في خمس دقايق 🙌",
        "مبسوط مرة بجهازي الجديد {product}، البطارية تكفي اليوم كامل",
        "خمس نجوم. توصيل سريع وتغليف ممتاز و{product} يشتغل بشكل رائع.",
        "{brand} دايماً في الموعد 👌 #عميل_سعيد",
        "انتقلت من {competitor} السنة الماضية وما ندمت أبداً.",
        "الطلب {order} وصل قبل موعده بيوم. شغل محترم!",
        "أود أن أشكر الموظفة التي ساعدتني أمس، كانت صبورة ولطيفة وحلّت المشكلة بالكامل. تستحق كل التقدير.",
        "أفضل شي اشتريته هالسنة بصراحة ❤️",
    ],
    "purchase_intent": [
        "أفكر أشتري {product}، فيه عروض قريب؟",
        "{handle} متى يرجع {product} متوفر؟ ودي أطلبه",
        "مرحباً، نرغب في شراء 20 جهاز {product} لمكتبنا. نرجو تواصل فريق المبيعات معنا بخصوص أسعار الجملة.",
        "خلاص اقتنعت، بشتري {product} هالويكند",
        "هل يتوفر {product} باللون الأسود؟ أبي أطلبه اليوم",
        "محتار بين {brand} و{competitor}، ليش أختار {product}؟",
        "بيكون فيه خصم على {product} في الجمعة البيضاء؟ ناوي آخذ اثنين",
        "أقدر أبدل جهازي القديم وأدفع الفرق على {product}؟",
    ],
    "feature_request": [
        "ياليت تضيفون الوضع الليلي للتطبيق 🙏",
        "نتمنى إضافة خيار تحميل الفواتير بصيغة PDF",
        "اقتراح: خلوا فيه خيار إيقاف الاشتراك مؤقتاً بدل الإلغاء",
        "{product} ممتاز بس ناقصه مدخل سماعات",
        "متى بتدعمون الدفع عن طريق Apple Pay؟",
        (
            "بصفتي عميلاً منذ سنوات، أقترح إطلاق برنامج ولاء للعملاء الدائمين، علماً بأن {competitor} "
            "لديهم برنامج مشابه."
        ),
        "نبي باقة عائلية، دفع أربع خطوط منفصلة متعب",
        "ياليت التطبيق يدعم العربي بالكامل، بعض الصفحات لسا بالإنجليزي",
    ],
    "churn_risk": [
        "جدياً أفكر أنتقل لـ {competitor}. الوضع صار مو طبيعي",
        "كيف ألغي اشتراكي في {brand}؟ خلاص تعبت",
        "{competitor} عطوني نص السعر. عطوني سبب واحد أبقى معكم {handle}",
        "عميل من ست سنين وهذي المعاملة؟ راح ألغي الاشتراك آخر الشهر.",
        (
            "السادة {brand}، أرجو اعتبار هذه الرسالة إشعاراً رسمياً بإنهاء العقد، فبعد {days} أيام دون "
            "حل لم تعد الخدمة مجدية بالنسبة لي."
        ),
        "نقلت رقمي لـ {competitor} خلاص. مع السلامة {brand} 👋",
        "كم رسوم إلغاء العقد قبل انتهاء المدة؟",
        "ثالث زيادة في الأسعار هالسنة. رايح لـ {competitor}",
    ],
    "spam": [
        "🔥 اربح 500 دولار يومياً وانت في البيت! راسلني خاص 🔥",
        "تابعني وأتابعك ✅ سحوبات يومية 💯",
        "مبروك! تم اختيارك للفوز بجائزة حصرية. اضغط على الرابط في البايو",
        "توصيات عملات رقمية مضمونة 🚀🚀 أرباح خيالية",
        "زيادة متابعين ولايكات بأسعار رخيصة، للطلب راسلنا",
        "منشور حلو 👍 زوروا حسابي",
        "احصل على {product} مجاناً!!! باقي 50 قطعة فقط",
        "نبحث عن مستثمرين، أرباح 40% شهرياً بدون أي مخاطرة. تواصل الآن.",
    ],
    "other": [
        "هههه إعلان {brand} الجديد يضحك",
        "صباح الخير للجميع ☀️",
        "شفت لوحة إعلانية لـ {brand} في الطريق، التصميم حلو",
        "مرحباً، أنا صحفي أعد تقريراً عن القطاع. من المسؤول عن التواصل الإعلامي في {brand}؟",
        "حاب أقدم على وظيفة خدمة العملاء، وين أرسل السيرة الذاتية؟",
        "رمضان كريم لفريق {brand} 🌙",
        "تجربة",
        "آسف، غلطت في المحادثة 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Indonesian
# ---------------------------------------------------------------------------------------------------------
_ID: dict[str, list[str]] = {
    "complaint": [
        "{handle} {product} saya mati lagi padahal baru {days} hari. Kecewa banget 😤",
        "Udah sejam nunggu CS {brand} nggak ada yang angkat. Parah.",
        (
            "Kepada Yth. Tim {brand}, saya ingin menyampaikan keluhan terkait pesanan {order} yang "
            "terlambat {days} hari dan kemasannya rusak. Mohon segera dilakukan pengembalian dana."
        ),
        "Saldo kepotong dua kali bulan ini, CS nggak bisa jelasin kenapa #kecewa",
        "Habis update, {product} jadi lemot banget dan baterainya boros.",
        "Bintang satu. Barang rusak di minggu pertama, proses returnya ribet banget.",
        "Pesanan {order} statusnya nggak gerak dari {days} hari lalu. Min, tolong dicek dong",
        "Dijanjiin ditelepon balik dua kali, nggak pernah ditelepon. Di {competitor} aja nggak gini.",
    ],
    "question": [
        "Min, {product} udah support wireless charging belum?",
        "{handle} kak, alamat pengiriman pesanan {order} masih bisa diganti nggak?",
        (
            "Selamat siang, apakah garansi {product} berlaku internasional? Saya akan pindah ke luar "
            "negeri dalam {days} hari."
        ),
        "Toko buka sampai jam berapa ya hari Minggu?",
        "Ada diskon pelajar nggak di {brand}? 🙏",
        "Refund biasanya masuk ke rekening berapa hari kerja ya?",
        "Bisa cicilan 0% nggak kalau beli {product}?",
        "Invoice untuk pesanan {order} bisa diunduh di mana ya?",
    ],
    "praise": [
        "Makasih {handle}, masalahku beres dalam 5 menit 🙌",
        "Suka banget sama {product} yang baru, baterainya awet seharian.",
        "Bintang lima. Pengiriman cepat, packing rapi, {product} berfungsi sempurna.",
        "{brand} emang nggak pernah mengecewakan #pelanggansetia",
        "Pindah dari {competitor} tahun lalu dan nggak nyesel sama sekali.",
        "Pesanan {order} sampai sehari lebih cepat. Mantap!",
        "Terima kasih untuk CS yang membantu saya kemarin. Sabar, ramah, dan masalahnya benar-benar selesai.",
        "Pelayanannya juara, respon cepat dan solutif 👍👍",
    ],
    "purchase_intent": [
        "Lagi mikir mau beli {product}, ada promo dalam waktu dekat nggak?",
        "{handle} kapan {product} restock? Udah siap checkout nih",
        (
            "Selamat pagi, kantor kami berencana membeli 20 unit {product}. Mohon tim sales "
            "menghubungi kami untuk informasi harga grosir."
        ),
        "Oke fix, weekend ini beli {product}",
        "{product} ada warna hitam nggak? Mau order hari ini",
        "Bingung pilih {brand} atau {competitor}. Kelebihan {product} apa aja sih?",
        "Ada promo tukar tambah kalau mau upgrade ke {product}?",
        "Bisa pre-order {product} lewat online nggak, kak?",
    ],
    "feature_request": [
        "Tolong tambahin dark mode di aplikasinya dong {handle} 🙏",
        "Semoga ke depannya invoice bisa diunduh dalam format PDF.",
        "Saran: tambahin fitur jeda langganan, jadi nggak perlu berhenti total.",
        "{product} udah bagus, cuma kurang colokan headphone aja.",
        "Kapan bisa bayar pakai QRIS atau GoPay?",
        "Kalau bisa ada tracking real-time buat pesanan kayak {order}, biar nggak nebak-nebak.",
        "Sebagai pelanggan lama, saya usul ada program loyalitas. {competitor} sudah punya dari dulu.",
        "Mohon ditambahkan paket keluarga, bayar empat nomor terpisah itu repot.",
    ],
    "churn_risk": [
        "Serius deh, kepikiran pindah ke {competitor}. Udah capek.",
        "Cara berhenti langganan {brand} gimana? Udah nggak kuat.",
        "{competitor} nawarin setengah harga. Kasih satu alasan buat bertahan, {handle}.",
        "Enam tahun jadi pelanggan dan begini perlakuannya? Akhir bulan saya berhenti.",
        (
            "Dengan hormat, melalui email ini saya mengajukan pemutusan kontrak layanan. Setelah "
            "{days} hari kendala tidak kunjung diselesaikan, layanan ini sudah tidak sepadan bagi saya."
        ),
        "Nomor udah pindah ke {competitor}. Dadah {brand} 👋",
        "Kalau pesanan {order} nggak beres sampai Jumat, saya minta refund dan pindah aja.",
        "Harga naik lagi untuk ketiga kalinya tahun ini. Mending ke {competitor}.",
    ],
    "spam": [
        "🔥 Penghasilan 5 juta per hari dari rumah! DM untuk info 🔥",
        "Follow aku ya, pasti follback ✅ giveaway tiap hari 💯",
        "Selamat! Anda terpilih mendapatkan hadiah eksklusif. Klaim segera lewat link di bio",
        "Sinyal kripto akurat 🚀🚀 cuan dijamin, join grup sekarang",
        "Jual followers, likes, views murah meriah, proses cepat ✅",
        "mampir ke olshop aku kak, lagi ada diskon 👍",
        "Dapatkan {product} GRATIS!!! Stok tinggal 50, klik link di bio",
        "Dicari investor, profit 40% per bulan tanpa risiko. Hubungi sekarang.",
    ],
    "other": [
        "wkwk iklan {brand} yang baru lucu banget",
        "Selamat pagi semua ☀️",
        "Lihat baliho {brand} tadi di jalan, desainnya keren",
        (
            "Halo, saya jurnalis yang sedang menulis artikel tentang industri ini. Siapa yang bisa "
            "saya hubungi untuk urusan media di {brand}?"
        ),
        "Mau tanya lowongan CS, CV dikirim ke mana ya?",
        "Selamat Idul Fitri untuk seluruh tim {brand}, mohon maaf lahir dan batin 🙏",
        "tes",
        "Maaf, salah kirim chat 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Russian
# ---------------------------------------------------------------------------------------------------------
_RU: dict[str, list[str]] = {
    "complaint": [
        "{handle} мой {product} опять сломался через {days} дней. Это уже третья замена, сколько можно?!",
        "Уже час вишу на линии поддержки {brand}, никто не отвечает 😡",
        (
            "Здравствуйте. Направляю официальную претензию по заказу {order}: доставка задержалась на "
            "{days} дней, коробка пришла помятой. Прошу вернуть деньги в полном объёме."
        ),
        "Списали деньги дважды за месяц, и никто не может объяснить почему #ужас",
        "После последнего обновления {product} жутко тормозит, батарея садится за полдня.",
        "Одна звезда. Сломался на первой неделе, а оформить возврат — целый квест.",
        "Заказ {order} уже {days} дней висит в статусе «в обработке». Есть кто живой в {brand}?",
        "Дважды обещали перезвонить и так и не перезвонили. В {competitor} себе такого не позволяли.",
    ],
    "question": [
        "Подскажите, {product} поддерживает беспроводную зарядку?",
        "{handle} можно ли поменять адрес доставки для заказа {order}?",
        "Добрый день! Действует ли гарантия на {product} за границей? Через {days} дней переезжаю.",
        "Во сколько работают магазины в воскресенье?",
        "Есть ли у {brand} скидки для студентов? 🙏",
        "Сколько обычно идёт возврат денег на карту?",
        "Можно купить {product} в рассрочку?",
        "Где скачать чек по заказу {order}?",
    ],
    "praise": [
        "Спасибо {handle}, решили проблему за пять минут 🙌",
        "Очень доволен новым {product}, батареи хватает на весь день.",
        "Пять звёзд. Быстрая доставка, аккуратная упаковка, всё работает отлично.",
        "{brand} как всегда на высоте 👍 #довольныйклиент",
        "В прошлом году ушёл от {competitor} к вам и ни разу не пожалел.",
        "Заказ {order} привезли на день раньше. Приятно удивлён!",
        (
            "Хочу поблагодарить сотрудницу, которая помогла мне вчера. Очень терпеливая и вежливая, "
            "довела всё до конца."
        ),
        "Лучшая покупка за год, честно 🔥",
    ],
    "purchase_intent": [
        "Присматриваюсь к {product}. Акции в ближайшее время будут?",
        "{handle} когда {product} снова появится в наличии? Готов брать.",
        (
            "Добрый день. Наша компания планирует закупить 20 единиц {product} для офиса. Прошу "
            "связаться со мной по поводу оптовых цен."
        ),
        "Всё, решено — в выходные беру {product}",
        "А {product} в чёрном цвете есть? Хочу заказать сегодня.",
        "Выбираю между {brand} и {competitor}. Чем {product} лучше?",
        "Есть ли трейд-ин, если сдать старый телефон и взять {product}?",
        "Можно оформить предзаказ на {product} онлайн?",
    ],
    "feature_request": [
        "Добавьте, пожалуйста, тёмную тему в приложение 🙏",
        "Было бы удобно выгружать счета в PDF.",
        "Предложение: сделайте возможность приостановить подписку, а не отменять её полностью.",
        "{product} классный, но очень не хватает разъёма для наушников.",
        "Когда появится оплата через СБП?",
        "Очень не хватает отслеживания курьера в реальном времени для заказов вроде {order}.",
        "Как давний клиент предлагаю ввести программу лояльности. У {competitor} она уже давно есть.",
        "Сделайте семейный тариф, платить за четыре номера отдельно неудобно.",
    ],
    "churn_risk": [
        "Всерьёз думаю перейти к {competitor}. Это уже ни в какие ворота.",
        "Как отключить подписку {brand}? С меня хватит.",
        "{competitor} предлагает в два раза дешевле. Дайте хоть одну причину остаться, {handle}.",
        "Шесть лет с вами — и такое отношение? В конце месяца ухожу.",
        (
            "Уважаемые представители {brand}! Прошу считать это письмо официальным уведомлением о "
            "расторжении договора. За {days} дней проблему так и не решили, смысла продолжать не вижу."
        ),
        "Номер уже перенёс в {competitor}. Прощай, {brand} 👋",
        "Какая неустойка за досрочное расторжение договора?",
        "Третье повышение цен за год. Ухожу к {competitor}.",
    ],
    "spam": [
        "🔥 Заработок от 5000 ₽ в день не выходя из дома! Пиши в личку 🔥",
        "Подпишись — подпишусь взаимно ✅ Розыгрыши каждый день 💯",
        "Поздравляем! Вы выбраны победителем эксклюзивного розыгрыша. Заберите приз по ссылке в профиле",
        "Крипто-сигналы 🚀🚀 доход гарантирован, вступай в канал",
        "Накрутка подписчиков и лайков недорого, быстро, без списаний ✅",
        "классный пост 👍 загляни ко мне в профиль",
        "{product} БЕСПЛАТНО!!! Осталось всего 50 штук, ссылка в шапке профиля",
        "Ищем инвесторов: 40% в месяц, без рисков. Пишите прямо сейчас.",
    ],
    "other": [
        "ахаха новая реклама {brand} просто огонь",
        "Всем доброе утро ☀️",
        "Видел билборд {brand} по дороге на работу, классный дизайн",
        (
            "Здравствуйте, я журналист, готовлю материал об отрасли. К кому в {brand} можно обратиться "
            "за комментарием?"
        ),
        "Хочу откликнуться на вакансию в службу поддержки. Куда отправить резюме?",
        "С Новым годом, команда {brand}! 🎄",
        "тест",
        "Извините, ошибся чатом 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Chinese (Simplified)
# ---------------------------------------------------------------------------------------------------------
_ZH: dict[str, list[str]] = {
    "complaint": [
        "{handle} 我的{product}才用了{days}天又坏了，这已经是第三次换货了，太离谱了！",
        "打{brand}客服电话等了一个多小时都没人接😡",
        (
            "{brand}客服您好：我就订单{order}提出正式投诉。该订单延迟{days}天送达，且外包装严重破损。"
            "请尽快为我办理全额退款。"
        ),
        "这个月被重复扣费两次，问客服也说不清楚 #差评",
        "更新之后{product}卡得要命，电池半天就没电了",
        "一星。用了不到一周就坏了，退货流程还特别麻烦。",
        "订单{order}的物流{days}天都没更新了，有人管吗？",
        "说好给我回电话，两次都没打。{competitor}都没这样对过我。",
    ],
    "question": [
        "请问{product}支持无线充电吗？",
        "{handle} 订单{order}的收货地址还能改吗？",
        "您好，想咨询一下{product}的保修在海外是否有效？我{days}天后要出国。",
        "门店周末几点开门？",
        "{brand}有学生优惠吗？🙏",
        "退款一般几个工作日到账？",
        "{product}可以分期免息吗？",
        "订单{order}的发票在哪里开？",
    ],
    "praise": [
        "感谢{handle}客服，五分钟就帮我解决了问题🙌",
        "新入手的{product}太好用了，续航一整天没问题",
        "五星好评！物流很快，包装严实，{product}用着很顺手。",
        "{brand}从来没让我失望过 #良心品牌",
        "去年从{competitor}换过来，一点都不后悔。",
        "订单{order}提前一天就到了，给力！",
        "想特别感谢昨天帮我处理问题的客服小姐姐，特别耐心，一直跟进到彻底解决。",
        "今年买得最值的东西，没有之一👍",
    ],
    "purchase_intent": [
        "在考虑入手{product}，最近有活动吗？",
        "{handle} {product}什么时候补货？等着下单呢",
        "您好，我司计划采购20台{product}用于办公，请销售同事与我联系洽谈批量价格。",
        "决定了，这周末就去买{product}",
        "{product}有黑色的吗？今天就想下单",
        "在{brand}和{competitor}之间纠结，{product}的优势是什么？",
        "双十一{product}会有优惠吗？打算买两台",
        "旧手机可以以旧换新换{product}吗？",
    ],
    "feature_request": [
        "App能不能加个深色模式啊🙏",
        "希望可以支持导出PDF格式的发票",
        "建议：增加暂停订阅的功能，而不是只能直接取消",
        "{product}挺好的，就是没有耳机孔有点可惜",
        "什么时候支持微信支付？",
        "希望能像外卖一样实时查看配送进度，比如订单{order}",
        "作为老用户，建议推出会员积分计划，{competitor}早就有了。",
        "出个家庭套餐吧，四个号码分开交太麻烦了",
    ],
    "churn_risk": [
        "认真考虑换到{competitor}了，真的受够了",
        "{brand}的会员怎么取消？不想用了",
        "{competitor}给我的价格便宜一半，{handle}给我一个留下来的理由",
        "用了六年，就这服务态度？月底就销户。",
        "{brand}：您好，特此通知解除服务合同。问题拖了{days}天仍未解决，继续使用已无意义。",
        "号码已经转到{competitor}了，拜拜{brand}👋",
        "提前解约要付多少违约金？",
        "今年第三次涨价了，转投{competitor}。",
    ],
    "spam": [
        "🔥在家日赚500+，轻松无门槛，私信了解🔥",
        "互关互赞✅ 每天抽奖💯",
        "恭喜您获得专属大奖！点击主页链接立即领取",
        "币圈内部消息🚀🚀 稳赚不赔，速进群",
        "专业涨粉、点赞、刷播放，价格实惠，秒到账✅",
        "写得好👍 欢迎来我主页看看",
        "免费领取{product}!!! 仅剩50台，戳主页链接",
        "招募投资人，月收益40%，零风险，速联系",
    ],
    "other": [
        "哈哈哈{brand}新广告太搞笑了",
        "大家早上好☀️",
        "上班路上看到{brand}的广告牌，设计挺好看",
        "您好，我是记者，正在做一篇行业报道，请问{brand}的媒体对接人是哪位？",
        "想应聘客服岗位，简历投到哪里？",
        "祝{brand}的小伙伴们新年快乐🧧",
        "测试",
        "不好意思，发错群了😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# French
# ---------------------------------------------------------------------------------------------------------
_FR: dict[str, list[str]] = {
    "complaint": [
        (
            "{handle} mon {product} a encore lâché au bout de {days} jours. C'est le troisième "
            "remplacement, inadmissible."
        ),
        "Ça fait plus d'une heure que j'attends au service client {brand}. Toujours personne 😡",
        (
            "Madame, Monsieur, je vous adresse une réclamation concernant la commande {order}, livrée "
            "avec {days} jours de retard et dans un carton abîmé. Je vous demande le remboursement "
            "intégral."
        ),
        "Prélevé deux fois ce mois-ci et personne n'est capable de m'expliquer pourquoi #serviceclient",
        "Depuis la dernière mise à jour, mon {product} rame et la batterie ne tient plus la journée.",
        "Une étoile. Tombé en panne la première semaine, et le retour est un vrai parcours du combattant.",
        "Commande {order} bloquée depuis {days} jours. Il y a quelqu'un chez {brand} ?",
        (
            "On m'a promis deux fois qu'on me rappellerait, jamais eu d'appel. Même chez {competitor} "
            "on ne m'a pas traité comme ça."
        ),
    ],
    "question": [
        "Est-ce que le {product} est compatible avec la recharge sans fil ?",
        "{handle} petite question : je peux encore modifier l'adresse de livraison de la commande {order} ?",
        "Bonjour, la garantie du {product} est-elle valable à l'étranger ? Je déménage dans {days} jours.",
        "Vos boutiques sont ouvertes le dimanche ?",
        "Il y a une réduction étudiante chez {brand} ? 🙏",
        "En général, combien de temps faut-il pour qu'un remboursement arrive sur la carte ?",
        "Peut-on payer le {product} en plusieurs fois sans frais ?",
        "Où est-ce que je peux télécharger la facture de la commande {order} ?",
    ],
    "praise": [
        "Merci {handle}, problème réglé en cinq minutes chrono 🙌",
        "Ravie de mon nouveau {product}, l'autonomie est top.",
        "Cinq étoiles. Livraison rapide, emballage soigné, le {product} fonctionne parfaitement.",
        "{brand} ne déçoit jamais 👌 #clientcontent",
        "Passé de {competitor} à {brand} l'an dernier, aucun regret.",
        "Commande {order} reçue avec un jour d'avance. Bravo !",
        (
            "Je tenais à remercier la conseillère qui m'a aidé hier : patiente, aimable et efficace. "
            "Elle mérite d'être félicitée."
        ),
        "Franchement, mon meilleur achat de l'année 🔥",
    ],
    "purchase_intent": [
        "J'hésite à craquer pour le {product}. Des promos prévues bientôt ?",
        "{handle} le {product} revient quand en stock ? Je suis prêt à commander.",
        (
            "Bonjour, notre société souhaite acquérir 20 {product} pour ses équipes. Merci de me faire "
            "parvenir une offre tarifaire."
        ),
        "Bon, c'est décidé, je prends le {product} ce week-end",
        "Le {product} existe en noir ? Je voudrais le commander aujourd'hui.",
        "J'hésite entre {brand} et {competitor}. Qu'est-ce que le {product} a de plus ?",
        "Vous reprenez les anciens téléphones si j'achète le {product} ?",
        "Il y aura une remise sur le {product} pour le Black Friday ? J'en prendrais deux.",
    ],
    "feature_request": [
        "Un mode sombre dans l'appli, ce serait possible ? 🙏",
        "Ce serait pratique de pouvoir exporter les factures en PDF.",
        "Suggestion : permettre de suspendre l'abonnement au lieu de devoir le résilier.",
        "Le {product} est top, mais il manque vraiment une prise jack.",
        "Vous comptez accepter PayPal un jour ?",
        "Un suivi du livreur en temps réel pour les commandes comme la {order}, ce serait génial.",
        (
            "Client fidèle depuis des années, je vous suggère un programme de fidélité. {competitor} "
            "en propose déjà un."
        ),
        "Pensez à une offre famille, payer quatre lignes séparément c'est pénible.",
    ],
    "churn_risk": [
        "Je songe sérieusement à passer chez {competitor}. Là, c'est trop.",
        "Comment on résilie l'abonnement {brand} ? J'en ai marre.",
        "{competitor} me propose moitié prix. Donnez-moi une seule raison de rester, {handle}.",
        "Six ans de fidélité et voilà comment on me traite ? Je résilie à la fin du mois.",
        (
            "Madame, Monsieur, je vous informe par la présente de ma décision de résilier mon contrat. "
            "Après {days} jours sans solution, le service ne répond plus à mes attentes."
        ),
        "Portabilité faite vers {competitor}. Salut {brand} 👋",
        "Il y a des frais si je résilie avant la fin de l'engagement ?",
        "Troisième hausse de prix cette année. Direction {competitor}.",
    ],
    "spam": [
        "🔥 Gagnez 500 € par jour depuis chez vous ! Écrivez-moi en MP 🔥",
        "Abonne-toi, je te suis en retour ✅ Concours tous les jours 💯",
        "Félicitations ! Vous avez été sélectionné pour un cadeau exclusif. Réclamez-le via le lien en bio",
        "Signaux crypto 🚀🚀 gains garantis, rejoins le groupe",
        "Vente d'abonnés, likes et vues pas cher, livraison express ✅",
        "super post 👍 passe voir mon profil",
        "{product} OFFERT !!! Plus que 50 exemplaires, lien en bio",
        "Recherche investisseurs, 40 % de rendement mensuel sans risque. Contactez-moi vite.",
    ],
    "other": [
        "mdr la nouvelle pub {brand} est trop drôle",
        "Bonjour à tous ☀️",
        "Vu une affiche {brand} en allant au boulot, joli design",
        (
            "Bonjour, je suis journaliste et je prépare un article sur le secteur. Qui s'occupe des "
            "relations presse chez {brand} ?"
        ),
        "Je souhaiterais postuler au poste du service client, à qui envoyer mon CV ?",
        "Bonne année à toute l'équipe {brand} ! 🥂",
        "test",
        "Oups, mauvaise conversation 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# German
# ---------------------------------------------------------------------------------------------------------
_DE: dict[str, list[str]] = {
    "complaint": [
        (
            "{handle} mein {product} ist nach {days} Tagen schon wieder kaputt. Das dritte "
            "Austauschgerät – inakzeptabel."
        ),
        "Hänge seit über einer Stunde in der Warteschleife von {brand}. Niemand geht ran 😡",
        (
            "Sehr geehrte Damen und Herren, hiermit reiche ich eine Beschwerde zur Bestellung {order} "
            "ein. Die Lieferung kam mit {days} Tagen Verspätung und der Karton war beschädigt. Ich "
            "bitte um vollständige Erstattung."
        ),
        "Diesen Monat doppelt abgebucht und keiner kann mir sagen, warum #Kundenservice",
        "Seit dem letzten Update ruckelt mein {product} ständig und der Akku ist nach einem halben Tag leer.",
        "Ein Stern. Nach einer Woche defekt, und die Rücksendung ist ein einziger Albtraum.",
        "Bestellung {order} hängt seit {days} Tagen auf „in Bearbeitung“. Ist bei {brand} jemand wach?",
        (
            "Zweimal wurde mir ein Rückruf versprochen, passiert ist nichts. So hat mich nicht mal "
            "{competitor} behandelt."
        ),
    ],
    "question": [
        "Unterstützt das {product} kabelloses Laden?",
        "{handle} kurze Frage: Kann ich die Lieferadresse für Bestellung {order} noch ändern?",
        "Guten Tag, gilt die Garantie für das {product} auch im Ausland? Ich ziehe in {days} Tagen um.",
        "Habt ihr samstags bis 20 Uhr offen?",
        "Gibt es bei {brand} einen Studentenrabatt? 🙏",
        "Wie lange dauert es normalerweise, bis eine Erstattung auf dem Konto ist?",
        "Kann man das {product} auch in Raten zahlen?",
        "Wo finde ich die Rechnung zu Bestellung {order}?",
    ],
    "praise": [
        "Danke {handle}, Problem in fünf Minuten gelöst 🙌",
        "Bin super zufrieden mit meinem neuen {product}, der Akku hält locker den ganzen Tag.",
        "Fünf Sterne. Schnelle Lieferung, ordentlich verpackt, das {product} läuft einwandfrei.",
        "{brand} enttäuscht einfach nie 👌 #zufrieden",
        "Letztes Jahr von {competitor} gewechselt und keine Sekunde bereut.",
        "Bestellung {order} war einen Tag früher da. Top!",
        (
            "Ich möchte mich ausdrücklich bei der Mitarbeiterin bedanken, die mir gestern geholfen "
            "hat: geduldig, freundlich und lösungsorientiert."
        ),
        "Ehrlich gesagt mein bester Kauf dieses Jahr 🔥",
    ],
    "purchase_intent": [
        "Überlege, mir das {product} zu holen. Gibt's bald ein Angebot?",
        "{handle} wann ist das {product} wieder lieferbar? Würde sofort bestellen.",
        (
            "Guten Tag, wir möchten 20 Stück des {product} für unser Büro beschaffen. Bitte senden Sie "
            "uns ein Angebot mit Staffelpreisen."
        ),
        "Okay, überzeugt. Am Wochenende kauf ich mir das {product}.",
        "Gibt es das {product} auch in Schwarz? Möchte heute noch bestellen.",
        "Schwanke zwischen {brand} und {competitor}. Was spricht für das {product}?",
        "Nehmt ihr mein altes Handy in Zahlung, wenn ich das {product} kaufe?",
        "Kann man das {product} online vorbestellen?",
    ],
    "feature_request": [
        "Bitte einen Dark Mode für die App 🙏",
        "Wäre praktisch, wenn man Rechnungen als PDF exportieren könnte.",
        "Vorschlag: Abo pausieren statt nur kündigen können.",
        "Das {product} ist klasse, aber ein Kopfhöreranschluss fehlt echt.",
        "Wann kann man endlich mit PayPal zahlen?",
        "Eine Live-Sendungsverfolgung für Bestellungen wie {order} wäre super.",
        "Als langjähriger Kunde schlage ich ein Treueprogramm vor. {competitor} hat so etwas schon längst.",
        "Macht doch mal einen Familientarif, vier Verträge einzeln zu zahlen nervt.",
    ],
    "churn_risk": [
        "Überlege ernsthaft, zu {competitor} zu wechseln. Das geht so nicht weiter.",
        "Wie kündige ich mein Abo bei {brand}? Mir reicht's.",
        "{competitor} bietet mir den halben Preis. Nennt mir einen Grund zu bleiben, {handle}.",
        "Sechs Jahre Kunde und dann so was? Zum Monatsende bin ich weg.",
        (
            "Sehr geehrte Damen und Herren, hiermit kündige ich meinen Vertrag zum nächstmöglichen "
            "Zeitpunkt. Nach {days} Tagen ohne Lösung sehe ich keinen Grund mehr, Kunde zu bleiben."
        ),
        "Rufnummer ist zu {competitor} portiert. Tschüss {brand} 👋",
        "Was kostet es, wenn ich vor Ende der Mindestlaufzeit kündige?",
        "Dritte Preiserhöhung in diesem Jahr. Ab zu {competitor}.",
    ],
    "spam": [
        "🔥 500 € am Tag von zu Hause verdienen! Schreib mir per DM 🔥",
        "Folgst du mir, folg ich dir ✅ Täglich Gewinnspiele 💯",
        (
            "Herzlichen Glückwunsch! Sie wurden für einen exklusiven Preis ausgewählt. Jetzt über den "
            "Link in der Bio sichern"
        ),
        "Krypto-Signale 🚀🚀 garantierter Gewinn, tritt jetzt der Gruppe bei",
        "Follower, Likes und Views günstig kaufen, blitzschnelle Lieferung ✅",
        "cooler Post 👍 schau mal auf meinem Profil vorbei",
        "{product} GRATIS!!! Nur noch 50 Stück, Link in der Bio",
        "Suchen Investoren: 40 % Rendite im Monat ohne Risiko. Jetzt melden.",
    ],
    "other": [
        "haha die neue Werbung von {brand} ist echt witzig",
        "Guten Morgen zusammen ☀️",
        "Auf dem Weg zur Arbeit ein Plakat von {brand} gesehen, schickes Design",
        (
            "Guten Tag, ich bin Journalistin und schreibe einen Artikel über die Branche. Wer ist bei "
            "{brand} für Presseanfragen zuständig?"
        ),
        "Ich möchte mich auf die Stelle im Kundenservice bewerben. Wohin schicke ich meine Unterlagen?",
        "Frohe Weihnachten an das ganze Team von {brand}! 🎄",
        "Test",
        "Sorry, falscher Chat 😅",
    ],
}

# ---------------------------------------------------------------------------------------------------------
# Portuguese (Brazilian)
# ---------------------------------------------------------------------------------------------------------
_PT: dict[str, list[str]] = {
    "complaint": [
        "{handle} meu {product} pifou de novo depois de {days} dias. Já é a terceira troca, um absurdo!",
        "Mais de uma hora esperando no atendimento da {brand} e ninguém atende 😡",
        (
            "Prezados, venho registrar uma reclamação formal referente ao pedido {order}, que chegou "
            "com {days} dias de atraso e com a embalagem danificada. Solicito o reembolso integral."
        ),
        "Fui cobrado duas vezes este mês e ninguém sabe me explicar o motivo #descaso",
        "Depois da última atualização o {product} ficou lento demais e a bateria não dura nada.",
        "Uma estrela. Deu defeito na primeira semana e a devolução é uma novela.",
        "Pedido {order} parado há {days} dias. Tem alguém aí na {brand}?",
        "Prometeram retornar a ligação duas vezes e nada. Nem a {competitor} me tratou assim.",
    ],
    "question": [
        "O {product} tem carregamento sem fio?",
        "{handle} dúvida rápida: ainda dá pra mudar o endereço de entrega do pedido {order}?",
        "Boa tarde, a garantia do {product} vale no exterior? Vou me mudar em {days} dias.",
        "Até que horas as lojas abrem no domingo?",
        "A {brand} tem desconto pra estudante? 🙏",
        "Em quanto tempo o estorno costuma cair no cartão?",
        "Dá pra parcelar o {product} sem juros?",
        "Onde consigo a nota fiscal do pedido {order}?",
    ],
    "praise": [
        "Valeu {handle}, resolveram meu problema em cinco minutos 🙌",
        "Apaixonada pelo meu {product} novo, a bateria dura o dia todo.",
        "Cinco estrelas. Entrega rápida, embalagem caprichada e o {product} funciona perfeitamente.",
        "A {brand} nunca decepciona 👌 #clientesatisfeito",
        "Troquei a {competitor} pela {brand} ano passado e não me arrependo nem um pouco.",
        "Pedido {order} chegou um dia antes do prazo. Show!",
        "Quero agradecer à atendente que me ajudou ontem: paciente, simpática e resolveu tudo de verdade.",
        "Melhor compra do ano, sem dúvida 🔥",
    ],
    "purchase_intent": [
        "Pensando em comprar o {product}. Vai ter promoção em breve?",
        "{handle} quando o {product} volta pro estoque? Tô pronto pra comprar.",
        (
            "Bom dia, nossa empresa tem interesse em adquirir 20 unidades do {product}. Gostaria que o "
            "time comercial entrasse em contato para negociarmos valores."
        ),
        "Pronto, me convenceram. No fim de semana compro o {product}.",
        "Tem o {product} na cor preta? Quero pedir hoje.",
        "Em dúvida entre {brand} e {competitor}. Qual a vantagem do {product}?",
        "Vocês aceitam meu celular usado na troca pelo {product}?",
        "Vai ter desconto no {product} na Black Friday? Pretendo levar dois.",
    ],
    "feature_request": [
        "Coloquem modo escuro no app, por favor 🙏",
        "Seria ótimo poder exportar as faturas em PDF.",
        "Sugestão: deixar pausar a assinatura em vez de cancelar de vez.",
        "O {product} é ótimo, mas faz falta uma entrada de fone.",
        "Quando vão aceitar Pix?",
        "Um rastreio em tempo real para pedidos como o {order} ajudaria demais.",
        "Como cliente antigo, sugiro um programa de fidelidade. A {competitor} já tem faz tempo.",
        "Lancem um plano família, pagar quatro linhas separadas é um saco.",
    ],
    "churn_risk": [
        "Pensando seriamente em migrar pra {competitor}. Não dá mais.",
        "Como cancelo minha assinatura da {brand}? Cansei.",
        "A {competitor} tá me oferecendo metade do preço. Me dá um motivo pra ficar, {handle}.",
        "Seis anos de cliente e é assim que me tratam? Cancelo no fim do mês.",
        (
            "Prezados, por meio deste comunico minha decisão de rescindir o contrato. Após {days} dias "
            "sem solução, o serviço deixou de atender às minhas necessidades."
        ),
        "Já fiz a portabilidade pra {competitor}. Tchau {brand} 👋",
        "Qual a multa por cancelar antes de acabar a fidelidade?",
        "Terceiro reajuste este ano. Tô indo pra {competitor}.",
    ],
    "spam": [
        "🔥 Ganhe R$ 500 por dia trabalhando em casa! Chama no direct 🔥",
        "Sigo de volta ✅ sorteios todo dia 💯",
        "Parabéns! Você foi selecionado para um prêmio exclusivo. Resgate pelo link na bio",
        "Sinais de cripto 🚀🚀 lucro garantido, entra no grupo",
        "Vendo seguidores, curtidas e views baratinho, entrega rápida ✅",
        "post top 👍 passa lá no meu perfil",
        "{product} DE GRAÇA!!! Só restam 50, link na bio",
        "Procuro investidores, retorno de 40% ao mês sem risco. Fale comigo agora.",
    ],
    "other": [
        "kkkkk a propaganda nova da {brand} é muito boa",
        "Bom dia, pessoal ☀️",
        "Vi um outdoor da {brand} no caminho do trabalho, design bonito",
        (
            "Olá, sou jornalista e estou escrevendo uma matéria sobre o setor. Quem cuida da "
            "assessoria de imprensa da {brand}?"
        ),
        "Gostaria de me candidatar à vaga de atendimento. Para onde mando o currículo?",
        "Feliz Natal a toda a equipe da {brand}! 🎄",
        "teste",
        "Foi mal, mandei no chat errado 😅",
    ],
}

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": _EN,
    "es": _ES,
    "ar": _AR,
    "id": _ID,
    "ru": _RU,
    "zh": _ZH,
    "fr": _FR,
    "de": _DE,
    "pt": _PT,
}

SUBJECTS: dict[str, list[str]] = {
    "en": [
        "Complaint regarding order {order}",
        "Question about the {product}",
        "Refund request – order {order}",
        "Thank you!",
        "Request for quote: {product}",
        "Cancellation of my {brand} account",
        "Delivery delayed by {days} days",
        "Suggestion for the {brand} app",
    ],
    "es": [
        "Reclamación sobre el pedido {order}",
        "Consulta sobre el {product}",
        "Solicitud de reembolso – pedido {order}",
        "¡Muchas gracias!",
        "Solicitud de presupuesto: {product}",
        "Baja de mi cuenta en {brand}",
        "Pedido con {days} días de retraso",
        "Sugerencia para la app de {brand}",
    ],
    "ar": [
        "شكوى بخصوص الطلب رقم {order}",
        "استفسار عن {product}",
        "طلب استرجاع مبلغ – الطلب {order}",
        "شكر وتقدير",
        "طلب عرض سعر: {product}",
        "إلغاء حسابي في {brand}",
        "تأخر التوصيل {days} أيام",
    ],
    "id": [
        "Keluhan terkait pesanan {order}",
        "Pertanyaan tentang {product}",
        "Permohonan refund – pesanan {order}",
        "Terima kasih!",
        "Permintaan penawaran harga: {product}",
        "Penutupan akun {brand} saya",
        "Pengiriman terlambat {days} hari",
    ],
    "ru": [
        "Претензия по заказу {order}",
        "Вопрос по {product}",
        "Запрос на возврат средств — заказ {order}",
        "Спасибо!",
        "Запрос коммерческого предложения: {product}",
        "Закрытие аккаунта {brand}",
        "Доставка задерживается на {days} дней",
    ],
    "zh": [
        "关于订单{order}的投诉",
        "咨询：{product}相关问题",
        "退款申请 – 订单{order}",
        "感谢信",
        "询价：{product}",
        "申请注销{brand}账户",
        "订单已延迟{days}天",
    ],
    "fr": [
        "Réclamation concernant la commande {order}",
        "Question sur le {product}",
        "Demande de remboursement – commande {order}",
        "Merci !",
        "Demande de devis : {product}",
        "Résiliation de mon compte {brand}",
        "Livraison en retard de {days} jours",
    ],
    "de": [
        "Beschwerde zur Bestellung {order}",
        "Frage zum {product}",
        "Erstattungsantrag – Bestellung {order}",
        "Vielen Dank!",
        "Angebotsanfrage: {product}",
        "Kündigung meines Kontos bei {brand}",
        "Lieferung seit {days} Tagen überfällig",
    ],
    "pt": [
        "Reclamação sobre o pedido {order}",
        "Dúvida sobre o {product}",
        "Solicitação de reembolso – pedido {order}",
        "Muito obrigado!",
        "Pedido de orçamento: {product}",
        "Cancelamento da minha conta {brand}",
        "Entrega atrasada há {days} dias",
    ],
}

AGENT_REPLIES: dict[str, list[str]] = {
    "en": [
        (
            "Hi {first_name}, thanks for reaching out to {brand}. Sorry for the trouble! Could you DM "
            "us your order number so we can look into it?"
        ),
        (
            "Hello {first_name}, I completely understand your frustration. I've escalated your case "
            "and a specialist will contact you within 24 hours."
        ),
        "Thank you so much for the kind words, {first_name}! We'll share this with the team 💙",
        "Great question, {first_name}! I've sent you the details in a private message.",
        (
            "Dear {first_name}, thank you for contacting {brand}. Your request has been received and "
            "our team will get back to you shortly. Kind regards, {brand} Customer Care"
        ),
        (
            "We're sorry to hear you're thinking of leaving, {first_name}. Could we give you a call to "
            "see what we can do to make this right?"
        ),
        "Thanks for the suggestion, {first_name}! I've passed it on to our product team.",
    ],
    "es": [
        (
            "Hola, {first_name}. Gracias por escribir a {brand}. Sentimos mucho las molestias; ¿nos "
            "envías el número de pedido por mensaje privado para revisarlo?"
        ),
        (
            "Hola, {first_name}. Entendemos perfectamente tu malestar. Hemos escalado tu caso y un "
            "especialista se pondrá en contacto contigo en menos de 24 horas."
        ),
        "¡Muchísimas gracias por tus palabras, {first_name}! Se las haremos llegar al equipo 💙",
        "¡Buena pregunta, {first_name}! Te hemos enviado toda la información por mensaje directo.",
        (
            "Estimado/a {first_name}: gracias por contactar con {brand}. Hemos recibido su solicitud y "
            "nuestro equipo le responderá a la mayor brevedad. Un cordial saludo, Atención al Cliente "
            "de {brand}"
        ),
        (
            "Lamentamos que estés pensando en irte, {first_name}. ¿Te parece si te llamamos para ver "
            "cómo podemos solucionarlo?"
        ),
        "¡Gracias por la sugerencia, {first_name}! Ya se la hemos trasladado al equipo de producto.",
    ],
    "ar": [
        (
            "مرحباً {first_name}، شكراً لتواصلك مع {brand}. نعتذر عن الإزعاج، ممكن ترسل لنا رقم الطلب في "
            "رسالة خاصة لنتابع الموضوع؟"
        ),
        "أهلاً {first_name}، نتفهم انزعاجك تماماً. تم تصعيد طلبك وسيتواصل معك أحد المختصين خلال 24 ساعة.",
        "شكراً جزيلاً على كلامك الجميل يا {first_name}! سننقله للفريق 💙",
        "سؤال ممتاز يا {first_name}! أرسلنا لك التفاصيل في رسالة خاصة.",
        (
            "عزيزنا {first_name}، شكراً لتواصلكم مع {brand}. تم استلام طلبكم وسيقوم فريقنا بالرد عليكم "
            "في أقرب وقت. مع خالص التحية، خدمة عملاء {brand}"
        ),
        "يؤسفنا أنك تفكر في المغادرة يا {first_name}. هل يمكننا الاتصال بك لنرى كيف نصلح الأمر؟",
        "شكراً على الاقتراح يا {first_name}! تم تحويله لفريق تطوير المنتج.",
    ],
    "id": [
        (
            "Halo Kak {first_name}, terima kasih sudah menghubungi {brand}. Mohon maaf atas "
            "ketidaknyamanannya. Boleh kirim nomor pesanan via DM agar kami bantu cek?"
        ),
        (
            "Halo {first_name}, kami memahami kekecewaan Kakak. Kasus ini sudah kami eskalasi dan tim "
            "spesialis akan menghubungi dalam 1x24 jam."
        ),
        "Terima kasih banyak atas apresiasinya, Kak {first_name}! Akan kami sampaikan ke tim 💙",
        "Pertanyaan yang bagus, Kak {first_name}! Detailnya sudah kami kirim via DM ya.",
        (
            "Yth. Bapak/Ibu {first_name}, terima kasih telah menghubungi {brand}. Permintaan Anda "
            "telah kami terima dan akan segera ditindaklanjuti. Salam hangat, Layanan Pelanggan {brand}"
        ),
        (
            "Sayang sekali Kakak berencana berhenti, {first_name}. Boleh kami telepon untuk mencari "
            "solusi terbaik?"
        ),
        "Terima kasih atas sarannya, Kak {first_name}! Sudah kami teruskan ke tim produk.",
    ],
    "ru": [
        (
            "Здравствуйте, {first_name}! Спасибо, что написали в {brand}. Приносим извинения за "
            "неудобства — пришлите, пожалуйста, номер заказа в личные сообщения, и мы всё проверим."
        ),
        (
            "{first_name}, понимаем ваше недовольство. Мы передали обращение специалисту, он свяжется "
            "с вами в течение 24 часов."
        ),
        "Большое спасибо за тёплые слова, {first_name}! Обязательно передадим команде 💙",
        "Хороший вопрос, {first_name}! Отправили подробности вам в личные сообщения.",
        (
            "{first_name}, благодарим за обращение в {brand}. Ваш запрос зарегистрирован, наши "
            "специалисты ответят в ближайшее время. С уважением, служба поддержки {brand}"
        ),
        "Очень жаль, что вы думаете уйти, {first_name}. Можно мы вам перезвоним и попробуем всё исправить?",
        "Спасибо за идею, {first_name}! Передали её команде продукта.",
    ],
    "zh": [
        "{first_name}您好，感谢联系{brand}！给您带来不便非常抱歉，麻烦私信提供一下订单号，我们马上为您核实。",
        "{first_name}您好，非常理解您的心情。已为您升级处理，专员会在24小时内与您联系。",
        "谢谢{first_name}的认可！我们会转达给团队的💙",
        "好问题，{first_name}！详细信息已私信发给您啦。",
        "尊敬的{first_name}：感谢您联系{brand}。您的请求已收到，我们的团队将尽快回复您。{brand}客户服务中心",
        "很遗憾听到您考虑离开，{first_name}。方便的话我们给您回个电话，看看怎么帮您解决？",
        "感谢{first_name}的建议！已经反馈给产品团队了。",
    ],
    "fr": [
        (
            "Bonjour {first_name}, merci d'avoir contacté {brand}. Désolés pour ce désagrément ! "
            "Pouvez-vous nous envoyer votre numéro de commande en message privé pour que nous "
            "vérifiions ?"
        ),
        (
            "Bonjour {first_name}, nous comprenons tout à fait votre agacement. Votre dossier a été "
            "transmis à un conseiller spécialisé qui vous recontactera sous 24 h."
        ),
        "Merci beaucoup pour ce gentil message, {first_name} ! Nous transmettons à l'équipe 💙",
        "Bonne question, {first_name} ! Nous vous avons envoyé les détails en message privé.",
        (
            "Bonjour {first_name}, nous vous remercions d'avoir contacté {brand}. Votre demande a bien "
            "été enregistrée et notre équipe vous répondra dans les plus brefs délais. Cordialement, "
            "le Service Client {brand}"
        ),
        (
            "Nous sommes navrés que vous envisagiez de partir, {first_name}. Pouvons-nous vous appeler "
            "pour trouver une solution ensemble ?"
        ),
        "Merci pour la suggestion, {first_name} ! Nous l'avons transmise à notre équipe produit.",
    ],
    "de": [
        (
            "Hallo {first_name}, danke, dass du dich bei {brand} meldest! Das tut uns leid – schick "
            "uns bitte deine Bestellnummer per DM, dann schauen wir uns das an."
        ),
        (
            "Hallo {first_name}, wir verstehen deinen Ärger total. Wir haben deinen Fall "
            "weitergeleitet, jemand aus dem Fachteam meldet sich innerhalb von 24 Stunden."
        ),
        "Vielen Dank für das tolle Feedback, {first_name}! Wir geben es ans Team weiter 💙",
        "Gute Frage, {first_name}! Wir haben dir die Details per Direktnachricht geschickt.",
        (
            "Guten Tag {first_name}, vielen Dank für Ihre Nachricht an {brand}. Ihr Anliegen ist bei "
            "uns eingegangen und wir melden uns schnellstmöglich. Mit freundlichen Grüßen, Ihr "
            "Kundenservice von {brand}"
        ),
        (
            "Schade, dass du über einen Wechsel nachdenkst, {first_name}. Dürfen wir dich anrufen und "
            "gemeinsam eine Lösung finden?"
        ),
        "Danke für den Vorschlag, {first_name}! Wir haben ihn an unser Produktteam weitergegeben.",
    ],
    "pt": [
        (
            "Oi, {first_name}! Obrigado por falar com a {brand}. Sentimos muito pelo transtorno — pode "
            "mandar o número do pedido no direct pra gente verificar?"
        ),
        (
            "Olá, {first_name}. Entendemos totalmente sua frustração. Seu caso foi encaminhado para um "
            "especialista, que vai entrar em contato em até 24 horas."
        ),
        "Muito obrigado pelo carinho, {first_name}! Vamos repassar pro time 💙",
        "Ótima pergunta, {first_name}! Mandamos os detalhes no seu direct.",
        (
            "Prezado(a) {first_name}, agradecemos o contato com a {brand}. Sua solicitação foi "
            "recebida e nossa equipe retornará em breve. Atenciosamente, Central de Atendimento {brand}"
        ),
        (
            "Que pena que você está pensando em sair, {first_name}. Podemos te ligar pra encontrar uma "
            "solução juntos?"
        ),
        "Valeu pela sugestão, {first_name}! Já encaminhamos pro time de produto.",
    ],
}

FIRST_NAMES: dict[str, list[str]] = {
    "en": [
        "James",
        "Olivia",
        "Michael",
        "Emma",
        "David",
        "Sophia",
        "Daniel",
        "Emily",
        "Ryan",
        "Chloe",
        "Ethan",
        "Grace",
        "Jacob",
        "Hannah",
        "Liam",
        "Megan",
        "Noah",
        "Ava",
    ],
    "es": [
        "Lucía",
        "Mateo",
        "Sofía",
        "Santiago",
        "Valentina",
        "Diego",
        "Camila",
        "Alejandro",
        "Martina",
        "Javier",
        "Isabella",
        "Carlos",
        "Paula",
        "Andrés",
        "Daniela",
        "Miguel",
    ],
    "ar": [
        "محمد",
        "أحمد",
        "فاطمة",
        "نورة",
        "عمر",
        "خالد",
        "سارة",
        "يوسف",
        "مريم",
        "علي",
        "ليلى",
        "حسن",
        "ريم",
        "عبدالله",
        "هند",
        "طارق",
    ],
    "id": [
        "Budi",
        "Siti",
        "Agus",
        "Dewi",
        "Rizky",
        "Putri",
        "Andi",
        "Ayu",
        "Fajar",
        "Rina",
        "Dimas",
        "Nurul",
        "Hendra",
        "Wulan",
        "Yusuf",
        "Intan",
    ],
    "ru": [
        "Александр",
        "Мария",
        "Дмитрий",
        "Анна",
        "Сергей",
        "Екатерина",
        "Иван",
        "Ольга",
        "Андрей",
        "Наталья",
        "Михаил",
        "Татьяна",
        "Алексей",
        "Елена",
        "Никита",
        "Дарья",
    ],
    "zh": [
        "伟",
        "芳",
        "娜",
        "敏",
        "静",
        "磊",
        "洋",
        "婷",
        "勇",
        "杰",
        "浩然",
        "子涵",
        "欣怡",
        "宇轩",
        "雨桐",
        "梓萱",
    ],
    "fr": [
        "Camille",
        "Louis",
        "Léa",
        "Hugo",
        "Manon",
        "Lucas",
        "Chloé",
        "Théo",
        "Inès",
        "Nathan",
        "Juliette",
        "Julien",
        "Sarah",
        "Antoine",
        "Émilie",
        "Maxime",
    ],
    "de": [
        "Lukas",
        "Anna",
        "Leon",
        "Lena",
        "Felix",
        "Hannah",
        "Jonas",
        "Laura",
        "Maximilian",
        "Sophie",
        "Paul",
        "Marie",
        "Tobias",
        "Katharina",
        "Jan",
        "Julia",
    ],
    "pt": [
        "Ana",
        "João",
        "Maria",
        "Pedro",
        "Juliana",
        "Lucas",
        "Beatriz",
        "Gabriel",
        "Larissa",
        "Rafael",
        "Camila",
        "Thiago",
        "Fernanda",
        "Mateus",
        "Letícia",
        "Gustavo",
    ],
}

LAST_NAMES: dict[str, list[str]] = {
    "en": [
        "Smith",
        "Johnson",
        "Brown",
        "Taylor",
        "Miller",
        "Wilson",
        "Davis",
        "Clark",
        "Walker",
        "Thompson",
        "Harris",
        "Lewis",
        "Robinson",
        "Wright",
        "Carter",
        "Mitchell",
    ],
    "es": [
        "García",
        "Rodríguez",
        "Martínez",
        "López",
        "Hernández",
        "González",
        "Pérez",
        "Sánchez",
        "Ramírez",
        "Torres",
        "Flores",
        "Díaz",
        "Moreno",
        "Jiménez",
        "Ruiz",
        "Vargas",
    ],
    "ar": [
        "العتيبي",
        "الحربي",
        "الشمري",
        "المصري",
        "حداد",
        "خوري",
        "الزهراني",
        "القحطاني",
        "النجار",
        "الأنصاري",
        "العلي",
        "السيد",
        "الدوسري",
        "منصور",
        "حمدان",
        "الخطيب",
    ],
    "id": [
        "Santoso",
        "Wijaya",
        "Saputra",
        "Pratama",
        "Kusuma",
        "Hidayat",
        "Nugroho",
        "Setiawan",
        "Siregar",
        "Lubis",
        "Sihombing",
        "Halim",
        "Gunawan",
        "Susanto",
        "Utomo",
        "Rahman",
    ],
    "ru": [
        "Иванов",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Соколов",
        "Лебедев",
        "Козлов",
        "Новиков",
        "Морозов",
        "Петров",
        "Волков",
        "Соловьёв",
        "Васильев",
        "Зайцев",
        "Павлов",
        "Семёнов",
    ],
    "zh": ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"],
    "fr": [
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefebvre",
        "Michel",
        "Fournier",
        "Rousseau",
    ],
    "de": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
    ],
    "pt": [
        "Silva",
        "Santos",
        "Oliveira",
        "Souza",
        "Rodrigues",
        "Ferreira",
        "Alves",
        "Pereira",
        "Lima",
        "Gomes",
        "Costa",
        "Ribeiro",
        "Martins",
        "Carvalho",
        "Almeida",
        "Araújo",
    ],
}


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------
class _Slots(dict):
    """Mapping for ``str.format_map`` that renders unknown placeholders as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def _lang(language: str) -> str:
    return language if language in TEMPLATES else "en"


def _handle_for(brand: str) -> str:
    slug = re.sub(r"[^a-z0-9]", "", brand.lower())
    return f"@{slug or 'brand'}"


def default_slots(rng: random.Random, language: str = "en", **slots: object) -> dict[str, str]:
    """Return ``slots`` (as strings) completed with sensible defaults for every known placeholder."""
    lang = _lang(language)
    given = {key: str(value) for key, value in slots.items() if value is not None and value != ""}
    brand = given.get("brand", DEFAULT_BRAND)
    out = {
        "brand": brand,
        "handle": _handle_for(brand),
        "product": f"{brand.split()[0]} X2" if brand.split() else "X2",
        "competitor": rng.choice([c for c in DEFAULT_COMPETITORS if c != brand] or DEFAULT_COMPETITORS),
        "days": str(rng.randint(2, 12)),
        "order": f"A-{rng.randint(10000, 99999)}",
        "first_name": rng.choice(FIRST_NAMES[lang]),
    }
    out.update(given)
    return out


def _ru_days(match: re.Match[str]) -> str:
    n = int(match.group(1))
    if n % 10 == 1 and n % 100 != 11:
        word = "день"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "дня"
    else:
        word = "дней"
    return f"{n}{match.group(2)}{word}"


def _ar_days(match: re.Match[str]) -> str:
    n = int(match.group(1))
    if n == 1:
        return "يوم واحد"
    if n == 2:
        return "يومين"
    if 3 <= n <= 10:
        return f"{n} أيام"
    return f"{n} يوماً"


_SINGULAR_DAY_FIXES: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "en": [(re.compile(r"(?<![\d.,])1 days\b"), "1 day")],
    "es": [(re.compile(r"(?<![\d.,])1 días\b"), "1 día")],
    "pt": [(re.compile(r"(?<![\d.,])1 dias\b"), "1 dia")],
    "fr": [(re.compile(r"(?<![\d.,])1 jours\b"), "1 jour")],
    "de": [(re.compile(r"(?<![\d.,])1 Tagen?\b"), "1 Tag")],
}


def _fix_day_words(language: str, text: str) -> str:
    """Make the word for 'day' agree with the number in front of it."""
    if language == "ru":
        return re.sub(r"(\d+)(\s+)(?:дней|дня|день)(?!\w)", _ru_days, text)
    if language == "ar":
        return re.sub(r"(\d+)\s+(?:أيام|يوماً|يوما|يوم)(?!\w)", _ar_days, text)
    for pattern, repl in _SINGULAR_DAY_FIXES.get(language, []):
        text = pattern.sub(repl, text)
    return text


def fill(rng: random.Random, language: str, template: str, **slots: object) -> str:
    """Fill one template; unknown placeholders become empty strings and never raise."""
    lang = _lang(language)
    values = _Slots(default_slots(rng, lang, **slots))
    try:
        text = template.format_map(values)
    except (ValueError, IndexError, AttributeError, TypeError):
        text = template
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    return _fix_day_words(lang, text)


def compose(rng: random.Random, language: str, intent: str, **slots: str) -> str:
    """Pick a template for (language, intent) and fill it; missing slots fall back to sensible defaults."""
    lang = _lang(language)
    by_intent = TEMPLATES[lang]
    template = rng.choice(by_intent.get(intent) or by_intent["other"])
    return fill(rng, lang, template, **slots)


def compose_subject(rng: random.Random, language: str, **slots: str) -> str:
    """Pick and fill an email subject line."""
    lang = _lang(language)
    return fill(rng, lang, rng.choice(SUBJECTS[lang]), **slots)


def compose_reply(rng: random.Random, language: str, **slots: str) -> str:
    """Pick and fill a polite brand-agent reply ({first_name}, {brand})."""
    lang = _lang(language)
    return fill(rng, lang, rng.choice(AGENT_REPLIES[lang]), **slots)


def pick_name(rng: random.Random, language: str) -> tuple[str, str]:
    """Return a (first_name, last_name) pair typical for ``language``."""
    lang = _lang(language)
    first = rng.choice(FIRST_NAMES[lang])
    last = rng.choice(LAST_NAMES[lang])
    if lang == "ru" and first.endswith(("а", "я")) and last.endswith(("ов", "ев", "ёв", "ин")):
        last += "а"  # Иванов -> Иванова for female given names
    return first, last


def full_name(language: str, first: str, last: str) -> str:
    """Render a display name in the customary order (family name first, unspaced, for Chinese)."""
    return f"{last}{first}" if _lang(language) == "zh" else f"{first} {last}"


def placeholders(template: str) -> set[str]:
    """Names of the ``{placeholders}`` used in ``template``."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


if __name__ == "__main__":
    assert set(TEMPLATES) == set(LANGUAGES), set(TEMPLATES) ^ set(LANGUAGES)
    assert set(SENTIMENT_OF_INTENT) == set(INTENTS)
    assert set(SENTIMENT_OF_INTENT.values()) <= {"negative", "neutral", "positive"}
    for lang in LANGUAGES:
        assert set(TEMPLATES[lang]) == set(INTENTS), (lang, set(TEMPLATES[lang]) ^ set(INTENTS))
        for intent in INTENTS:
            items = TEMPLATES[lang][intent]
            assert len(items) >= MIN_TEMPLATES[lang], (lang, intent, len(items))
            assert len(set(items)) == len(items), (lang, intent, "duplicate template")
            for tpl in items:
                assert placeholders(tpl) <= MESSAGE_PLACEHOLDERS, (lang, intent, tpl)
        assert len(SUBJECTS[lang]) >= 6 and len(set(SUBJECTS[lang])) == len(SUBJECTS[lang]), lang
        assert all(placeholders(s) <= MESSAGE_PLACEHOLDERS for s in SUBJECTS[lang]), lang
        assert len(AGENT_REPLIES[lang]) >= 6, lang
        assert all(placeholders(r) <= REPLY_PLACEHOLDERS for r in AGENT_REPLIES[lang]), lang
        assert len(set(FIRST_NAMES[lang])) >= 15, lang
        assert len(set(LAST_NAMES[lang])) >= 15, lang

    rng = random.Random(7)
    assert compose(rng, "en", "complaint", brand="Acme", unknown="x")
    assert fill(rng, "en", "{brand} {nope} {product}", brand="Acme") == "Acme Acme X2"
    assert fill(rng, "en", "{days} days", days=1) == "1 day"
    assert fill(rng, "ru", "{days} дней", days=3) == "3 дня"
    assert fill(rng, "ru", "{days} дней", days=21) == "21 день"
    assert fill(rng, "ar", "بعد {days} أيام", days=2) == "بعد يومين"
    assert compose(rng, "xx", "nonsense")  # unknown language/intent fall back to en/other
    for lang in LANGUAGES:
        for intent in INTENTS:
            for tpl in TEMPLATES[lang][intent]:
                out = fill(rng, lang, tpl)
                assert "{" not in out and "}" not in out, (lang, tpl)

    for lang in LANGUAGES:
        intent = rng.choice(INTENTS)
        first, last = pick_name(rng, lang)
        counts = ", ".join(f"{i}={len(TEMPLATES[lang][i])}" for i in INTENTS)
        print(f"[{lang}] {counts}")
        print(
            f"  {full_name(lang, first, last)} ({intent}, {SENTIMENT_OF_INTENT[intent]}): "
            f"{compose(rng, lang, intent, brand='Nimbus Mobile', product='Nimbus X2')}"
        )
        print(f"  subject: {compose_subject(rng, lang)}")
        print(f"  reply:   {compose_reply(rng, lang, first_name=first)}")
    print("phrases self-check OK")
