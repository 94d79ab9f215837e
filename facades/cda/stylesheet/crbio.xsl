<?xml version="1.0" encoding="UTF-8"?>
<!--
  OpenSGL - feuille de style du laboratoire pour le compte rendu d'examens biologiques (CDA R2 N3, CI-SIS CR-BIO).
  XSLT 1.0 so that every browser runs it. Renders the structured data (entries), not the section
  narratives: patient identity, prescriber, recipients, specimens, results with units, reference
  ranges and flags, comments, executing laboratory, validation. Works on a plain ClinicalDocument
  and on the self-presenting form (the ClinicalDocument inside data:Contenu of this very stylesheet).
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:c="urn:hl7-org:v3" xmlns:lab="urn:oid:1.3.6.1.4.1.19376.1.3.2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:data="urn:asip-sante:ci-sis"
  exclude-result-prefixes="c lab xsi data">

  <xsl:output method="html" encoding="UTF-8" indent="no"/>
  <xsl:key name="narrative" match="c:*[@ID]" use="@ID"/>

  <xsl:template match="/">
    <xsl:apply-templates select="(//c:ClinicalDocument)[1]"/>
  </xsl:template>

  <xsl:template match="c:ClinicalDocument">
    <html lang="fr">
      <head>
        <meta charset="UTF-8"/>
        <title>Compte rendu d'examens biologiques</title>
        <style>
          body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #1a1a1a; margin: 16px 28px; }
          .bandeau { display: flex; justify-content: space-between; border-bottom: 2px solid #003366; padding-bottom: 6px; }
          .labo { font-weight: bold; font-size: 12pt; color: #003366; }
          h1 { font-size: 14pt; text-align: center; margin: 12px 0; color: #003366; }
          .blocs { display: flex; gap: 16px; }
          .bloc { border: 1px solid #999; padding: 6px 10px; flex: 1; }
          .bloc h2 { font-size: 10pt; margin: 0 0 4px 0; color: #003366; }
          h3.chapitre { background: #003366; color: white; padding: 3px 8px; font-size: 11pt; margin-top: 18px; }
          h4 { font-size: 10pt; margin: 10px 0 4px 0; border-bottom: 1px solid #ccc; }
          table.resultats { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 10pt; }
          table.resultats th:nth-child(1) { width: 44%; }
          table.resultats th:nth-child(2), table.resultats th:nth-child(3) { width: 12%; }
          table.resultats th:nth-child(4) { width: 16%; }
          table.resultats th { text-align: left; font-size: 9pt; color: #555; border-bottom: 1px solid #999; }
          table.resultats td { padding: 2px 4px; vertical-align: top; }
          .anormal { font-weight: bold; }
          .prelevement, .executant, .commentaire { font-size: 9pt; color: #333; margin: 2px 0; }
          .commentaire { font-style: italic; }
          .validation { margin-top: 18px; border-top: 1px solid #999; padding-top: 6px; }
        </style>
      </head>
      <body>
        <div class="bandeau">
          <div>
            <div class="labo"><xsl:value-of select="c:custodian//c:representedCustodianOrganization/c:name"/></div>
            <xsl:apply-templates select="c:custodian//c:representedCustodianOrganization/c:addr"/>
            <xsl:apply-templates select="c:custodian//c:representedCustodianOrganization/c:telecom"/>
          </div>
          <div>
            <div>Édité le <xsl:call-template name="date"><xsl:with-param name="ts" select="c:effectiveTime/@value"/></xsl:call-template></div>
            <div>Version <xsl:value-of select="c:versionNumber/@value"/>
              <xsl:if test="c:relatedDocument[@typeCode='RPLC']"> (remplace la version précédente)</xsl:if></div>
            <div>Demande n° <xsl:value-of select="c:inFulfillmentOf/c:order/c:id/@extension"/></div>
          </div>
        </div>
        <h1><xsl:value-of select="c:title"/></h1>
        <div class="blocs">
          <xsl:apply-templates select="c:recordTarget/c:patientRole"/>
          <div class="bloc">
            <h2>Prescripteur</h2>
            <xsl:for-each select="c:participant[@typeCode='REF']/c:associatedEntity">
              <div><xsl:apply-templates select="c:associatedPerson/c:name"/></div>
              <xsl:apply-templates select="c:telecom"/>
            </xsl:for-each>
            <xsl:if test="c:informationRecipient">
              <h2>Destinataires</h2>
              <xsl:for-each select="c:informationRecipient/c:intendedRecipient">
                <div><xsl:apply-templates select="c:informationRecipient/c:name"/>
                  <xsl:if test="c:receivedOrganization/c:name"> — <xsl:value-of select="c:receivedOrganization/c:name"/></xsl:if>
                  <xsl:for-each select="c:telecom[starts-with(@value, 'mailto:')]"> (<xsl:value-of select="substring-after(@value, 'mailto:')"/>)</xsl:for-each>
                </div>
              </xsl:for-each>
            </xsl:if>
          </div>
        </div>
        <xsl:if test="c:documentationOf[1]/c:serviceEvent/lab:statusCode/@code = 'active'">
          <p class="anormal">Compte rendu partiel : des résultats sont en attente.</p>
        </xsl:if>
        <xsl:apply-templates select="c:component/c:structuredBody/c:component/c:section"/>
        <div class="validation">
          <xsl:for-each select="c:legalAuthenticator">
            Résultats validés par <xsl:apply-templates select="c:assignedEntity/c:assignedPerson/c:name"/>
            le <xsl:call-template name="date"><xsl:with-param name="ts" select="c:time/@value"/></xsl:call-template>
          </xsl:for-each>
        </div>
      </body>
    </html>
  </xsl:template>

  <!-- Patient identity (RNIV traits; INS with its nature only when the document carries it) -->
  <xsl:template match="c:patientRole">
    <xsl:variable name="p" select="c:patient"/>
    <div class="bloc">
      <h2>Patient</h2>
      <div>Nom de naissance : <b><xsl:value-of select="$p/c:name/c:family[@qualifier='BR']"/></b></div>
      <div>Prénom(s) de naissance : <xsl:value-of select="$p/c:name/c:given[not(@qualifier)]"/></div>
      <div>Premier prénom de naissance : <xsl:value-of select="$p/c:name/c:given[@qualifier='BR']"/></div>
      <xsl:if test="$p/c:name/c:family[@qualifier='CL']">
        <div>Nom utilisé : <xsl:value-of select="$p/c:name/c:family[@qualifier='CL']"/></div>
      </xsl:if>
      <xsl:if test="$p/c:name/c:given[@qualifier='CL']">
        <div>Prénom utilisé : <xsl:value-of select="$p/c:name/c:given[@qualifier='CL']"/></div>
      </xsl:if>
      <div>Sexe : <xsl:value-of select="$p/c:administrativeGenderCode/@code"/>
        — Né(e) le <xsl:call-template name="date"><xsl:with-param name="ts" select="$p/c:birthTime/@value"/></xsl:call-template>
        <xsl:if test="$p/c:birthplace//c:county"> — Lieu de naissance (INSEE) : <xsl:value-of select="$p/c:birthplace//c:county"/></xsl:if>
      </div>
      <xsl:for-each select="c:id">
        <xsl:choose>
          <xsl:when test="@root='1.2.250.1.213.1.4.8' or @root='1.2.250.1.213.1.4.10' or @root='1.2.250.1.213.1.4.11'">
            <div>INS (NIR) : <b><xsl:value-of select="@extension"/></b></div>
          </xsl:when>
          <xsl:when test="@root='1.2.250.1.213.1.4.9'">
            <div>INS (NIA) : <b><xsl:value-of select="@extension"/></b></div>
          </xsl:when>
          <xsl:otherwise><div>Identifiant : <xsl:value-of select="@extension"/></div></xsl:otherwise>
        </xsl:choose>
      </xsl:for-each>
      <xsl:apply-templates select="c:addr"/>
    </div>
  </xsl:template>

  <!-- Level-1 sections: chapters, conclusion, PDF copy -->
  <xsl:template match="c:section">
    <xsl:choose>
      <xsl:when test="c:templateId/@root='1.2.250.1.213.1.1.2.243'">
        <p class="prelevement">Une copie PDF du compte rendu est jointe au document :
          <xsl:apply-templates select=".//c:observationMedia/c:value[@mediaType='application/pdf']" mode="link"/>
        </p>
      </xsl:when>
      <xsl:when test="c:templateId/@root='1.3.6.1.4.1.19376.1.3.3.2.1'">
        <h3 class="chapitre"><xsl:value-of select="c:title"/></h3>
        <xsl:for-each select="c:component/c:section | self::c:section[c:entry]">
          <xsl:if test="c:title and not(c:templateId/@root='1.3.6.1.4.1.19376.1.3.3.2.1')"><h4><xsl:value-of select="c:title"/></h4></xsl:if>
          <xsl:apply-templates select="c:entry/c:act"/>
        </xsl:for-each>
      </xsl:when>
      <xsl:otherwise>
        <h3 class="chapitre"><xsl:value-of select="c:title"/></h3>
        <xsl:for-each select="c:text/c:paragraph | c:text/text()[normalize-space()]">
          <p><xsl:value-of select="."/></p>
        </xsl:for-each>
        <xsl:apply-templates select=".//c:observationMedia/c:value[@mediaType='application/pdf']" mode="link"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="c:value" mode="link">
    <a download="compte-rendu.pdf" href="{concat('data:application/pdf;base64,', translate(., '&#10;&#13; ', ''))}">ouvrir la copie PDF</a>
  </xsl:template>

  <!-- One result act: specimens, executing lab, the results table, comments -->
  <xsl:template match="c:act">
    <xsl:for-each select="c:entryRelationship/c:procedure">
      <div class="prelevement">Prélèvement : <xsl:value-of select="c:participant/c:participantRole/c:playingEntity/c:code/@displayName"/>
        <xsl:if test="c:effectiveTime/c:high/@value | c:effectiveTime/@value"> — prélevé le <xsl:call-template name="date"><xsl:with-param name="ts" select="(c:effectiveTime/c:high/@value | c:effectiveTime/@value)[1]"/></xsl:call-template></xsl:if>
        <xsl:for-each select="c:entryRelationship/c:act[c:code/@code='SPRECEIVE']"> — reçu le <xsl:call-template name="date"><xsl:with-param name="ts" select="c:effectiveTime/@value"/></xsl:call-template></xsl:for-each>
        <xsl:if test="c:participant/c:participantRole/c:id/@extension"> — n° <xsl:value-of select="c:participant/c:participantRole/c:id/@extension"/></xsl:if>
      </div>
    </xsl:for-each>
    <xsl:for-each select="c:performer/c:assignedEntity/c:representedOrganization">
      <div class="executant">Analyse réalisée par le laboratoire exécutant : <b><xsl:value-of select="c:name"/></b>
        <xsl:apply-templates select="c:addr"/><xsl:apply-templates select="c:telecom"/></div>
    </xsl:for-each>
    <table class="resultats">
      <thead><tr><th>Examen</th><th>Résultat</th><th>Unité</th><th>Valeurs de référence</th><th>Interprétation</th></tr></thead>
      <tbody><xsl:apply-templates select="c:entryRelationship/c:observation | c:entryRelationship/c:organizer" mode="row"/></tbody>
    </table>
    <xsl:for-each select=".//c:entryRelationship[@typeCode='SUBJ']/c:act[c:code/@code='48767-8']">
      <p class="commentaire">Commentaire : <xsl:call-template name="ref-text"><xsl:with-param name="ref" select="c:text/c:reference/@value"/></xsl:call-template></p>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="c:organizer" mode="row">
    <tr><td colspan="5"><b>
      <xsl:choose>
        <xsl:when test="@classCode='CLUSTER'">Isolat : <xsl:call-template name="label"><xsl:with-param name="code" select="c:specimen//c:specimenPlayingEntity/c:code"/></xsl:call-template></xsl:when>
        <xsl:otherwise><xsl:call-template name="label"><xsl:with-param name="code" select="c:code"/></xsl:call-template><xsl:call-template name="marks"><xsl:with-param name="code" select="c:code"/></xsl:call-template></xsl:otherwise>
      </xsl:choose>
    </b></td></tr>
    <xsl:apply-templates select="c:component/c:observation | c:component/c:organizer" mode="row"/>
  </xsl:template>

  <xsl:template match="c:observation" mode="row">
    <xsl:variable name="flag" select="c:interpretationCode/@code"/>
    <tr>
      <xsl:if test="$flag and $flag != 'N' and $flag != 'S'"><xsl:attribute name="class">anormal</xsl:attribute></xsl:if>
      <td><xsl:call-template name="label"><xsl:with-param name="code" select="c:code"/></xsl:call-template><xsl:call-template name="marks"><xsl:with-param name="code" select="c:code"/></xsl:call-template></td>
      <td><xsl:apply-templates select="c:value" mode="value"/></td>
      <td><xsl:value-of select="(c:value/@unit | c:value/c:low/@unit | c:value/c:high/@unit)[1]"/></td>
      <td><xsl:for-each select="c:referenceRange/c:observationRange">
        <xsl:value-of select="c:value/c:low/@value"/> – <xsl:value-of select="c:value/c:high/@value"/> <xsl:text> </xsl:text><xsl:value-of select="c:text"/>
      </xsl:for-each></td>
      <td><xsl:if test="$flag"><xsl:value-of select="$flag"/> (<xsl:value-of select="c:interpretationCode/@displayName"/>)</xsl:if></td>
    </tr>
  </xsl:template>

  <xsl:template match="c:value" mode="value">
    <xsl:choose>
      <xsl:when test="@value"><xsl:value-of select="@value"/></xsl:when>
      <xsl:when test="c:low or c:high">
        <xsl:if test="c:low"><xsl:choose><xsl:when test="c:low/@inclusive='false'">&gt;</xsl:when><xsl:otherwise>≥</xsl:otherwise></xsl:choose><xsl:value-of select="c:low/@value"/></xsl:if>
        <xsl:if test="c:high"><xsl:choose><xsl:when test="c:high/@inclusive='false'">&lt;</xsl:when><xsl:otherwise>≤</xsl:otherwise></xsl:choose><xsl:value-of select="c:high/@value"/></xsl:if>
      </xsl:when>
      <xsl:when test="c:originalText/c:reference"><xsl:call-template name="ref-text"><xsl:with-param name="ref" select="c:originalText/c:reference/@value"/></xsl:call-template></xsl:when>
      <xsl:when test="@displayName"><xsl:value-of select="@displayName"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="."/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Label of a code: the narrative text it points to, else its display name, else the code -->
  <xsl:template name="label">
    <xsl:param name="code"/>
    <xsl:variable name="text"><xsl:call-template name="ref-text"><xsl:with-param name="ref" select="$code/c:originalText/c:reference/@value"/></xsl:call-template></xsl:variable>
    <xsl:choose>
      <xsl:when test="normalize-space($text)"><xsl:value-of select="normalize-space($text)"/></xsl:when>
      <xsl:when test="$code/@displayName"><xsl:value-of select="$code/@displayName"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$code/@code"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The marks written after a result label in the narrative table: " *" (Cofrac, SGL.DOC.10) and
       " (validé automatiquement)" (SGL.DOC.09) -->
  <xsl:template name="marks">
    <xsl:param name="code"/>
    <xsl:variable name="ref" select="$code/c:originalText/c:reference/@value"/>
    <xsl:if test="$ref"><xsl:value-of select="key('narrative', substring($ref, 2))[parent::c:td]/following-sibling::text()[1]"/></xsl:if>
  </xsl:template>

  <xsl:template name="ref-text">
    <xsl:param name="ref"/>
    <xsl:if test="$ref"><xsl:value-of select="key('narrative', substring($ref, 2))"/></xsl:if>
  </xsl:template>

  <xsl:template match="c:name">
    <xsl:for-each select="c:prefix"><xsl:value-of select="."/><xsl:text> </xsl:text></xsl:for-each>
    <xsl:for-each select="c:suffix"><xsl:value-of select="."/><xsl:text> </xsl:text></xsl:for-each>
    <xsl:for-each select="c:given"><xsl:value-of select="."/><xsl:text> </xsl:text></xsl:for-each>
    <xsl:value-of select="c:family"/>
  </xsl:template>

  <xsl:template match="c:addr">
    <xsl:if test="not(@nullFlavor)">
      <div><xsl:for-each select="*"><xsl:value-of select="."/><xsl:if test="position() != last()"><xsl:text> </xsl:text></xsl:if></xsl:for-each></div>
    </xsl:if>
  </xsl:template>

  <xsl:template match="c:telecom">
    <xsl:if test="@value">
      <div>
        <xsl:choose>
          <xsl:when test="starts-with(@value, 'tel:')">Tél. <xsl:value-of select="substring-after(@value, 'tel:')"/></xsl:when>
          <xsl:when test="starts-with(@value, 'mailto:')">Messagerie sécurisée : <xsl:value-of select="substring-after(@value, 'mailto:')"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="@value"/></xsl:otherwise>
        </xsl:choose>
      </div>
    </xsl:if>
  </xsl:template>

  <!-- CDA TS (YYYYMMDDHHMM...) -> DD/MM/YYYY HH:MM -->
  <xsl:template name="date">
    <xsl:param name="ts"/>
    <xsl:choose>
      <xsl:when test="string-length($ts) &gt;= 8">
        <xsl:value-of select="concat(substring($ts, 7, 2), '/', substring($ts, 5, 2), '/', substring($ts, 1, 4))"/>
        <xsl:if test="string-length($ts) &gt;= 12"><xsl:value-of select="concat(' ', substring($ts, 9, 2), ':', substring($ts, 11, 2))"/></xsl:if>
      </xsl:when>
      <xsl:when test="string-length($ts) = 6"><xsl:value-of select="concat(substring($ts, 5, 2), '/', substring($ts, 1, 4))"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$ts"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
